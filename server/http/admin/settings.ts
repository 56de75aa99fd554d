import { signupLink } from './signup-link.js';
import type Router from '@koa/router';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { render, flash, handleForm, form } from './render.js';
import { confirmFirst } from './confirm.js';
import { attachListErrors, bodyOf, lines, summarise, valueAt } from './form-values.js';
import { requireRole } from '../middleware.js';
import { settingsFor } from '../../services/secrets.js';
import { parse } from '../../validation.js';
import { fieldError } from '../../errors.js';
import { FRAUD_ACTIONS, settingsPatchSchema, type Settings } from '../../domain/settings.js';
import type { Actor } from '../../services/actor.js';

type Body = Record<string, unknown>;

const URL_PARAMS = ['affiliate', 'banner', 'campaign', 'channel', 'data1', 'data2'] as const;
const LIST_FIELDS = ['exchangeRates', 'fraud.blockedIps', 'fraud.blockedCountries', 'fraud.refererDeny'];
const FIELDS = [
  ...URL_PARAMS.map((p) => `urlParams.${p}`),
  'cookieDays',
  'clickRetentionDays',
  'overwriteCookie',
  'gdprMode',
  'baseCurrency',
  'exchangeRates',
  'timezone',
  'defaultApproval',
  'siteUrl',
  'affiliateSignup',
  'duplicateOrders',
  'couponCampaignRecognition',
  'payoutMinimum',
  'termsText',
  'fraud.duplicateClickSeconds',
  'fraud.duplicateClickPerBanner',
  'fraud.duplicateClickAction',
  'fraud.blockedIps',
  'fraud.blockedIpsAction',
  'fraud.blockedCountries',
  'fraud.blockedCountriesAction',
  'fraud.refererDeny',
  'fraud.refererDenyAction',
  'fraud.bots',
  'fraud.botsAction',
  'fraud.selfReferral',
  'fraud.selfReferralAction',
  'fraud.duplicateOrderSeconds',
  'fraud.duplicateOrderAction',
];

const checked = (b: boolean) => (b ? 'on' : '');

/** The settings as the strings their form fields hold. */
function settingsValues(v: Settings) {
  const f = v.fraud;
  return {
    urlParams: { ...v.urlParams },
    cookieDays: String(v.cookieDays),
    clickRetentionDays: String(v.clickRetentionDays),
    overwriteCookie: String(v.overwriteCookie),
    gdprMode: checked(v.gdprMode),
    baseCurrency: v.baseCurrency,
    exchangeRates: Object.entries(v.exchangeRates)
      .map(([code, rate]) => `${code}=${rate}`)
      .join('\n'),
    timezone: v.timezone,
    defaultApproval: v.defaultApproval,
    siteUrl: v.siteUrl ?? '',
    affiliateSignup: v.affiliateSignup,
    duplicateOrders: v.duplicateOrders,
    couponCampaignRecognition: checked(v.couponCampaignRecognition),
    payoutMinimum: String(v.payoutMinimum),
    termsText: v.termsText ?? '',
    fraud: {
      ...f,
      duplicateClickSeconds: String(f.duplicateClickSeconds),
      duplicateClickPerBanner: checked(f.duplicateClickPerBanner),
      blockedIps: f.blockedIps.join('\n'),
      blockedCountries: f.blockedCountries.join('\n'),
      refererDeny: f.refererDeny.join('\n'),
      bots: checked(f.bots),
      selfReferral: checked(f.selfReferral),
      duplicateOrderSeconds: String(f.duplicateOrderSeconds),
    },
  };
}

/** `EUR=1.08` per line → `{ EUR: 1.08 }`; the settings schema checks codes and rates. */
function exchangeRates(text: string | string[] | undefined): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  lines(text).forEach((line, i) => {
    const m = /^([^=:\s]+)\s*[=:]\s*(\S+)$/.exec(line);
    if (!m) throw fieldError('exchangeRates', `line ${i + 1}: write each rate as CODE=rate, e.g. EUR=1.08`);
    const rate = Number(m[2]);
    out[(m[1] ?? '').toUpperCase()] = Number.isFinite(rate) ? rate : (m[2] ?? '');
  });
  return out;
}

/** The settings form as the PATCH body the API takes. */
function settingsInput(body: Body, current: Settings) {
  const text = (path: string) => form.text(valueAt(body, path)) ?? '';
  const num = (path: string) => form.number(valueAt(body, path)) ?? '';
  const box = (path: string) => form.checkbox(valueAt(body, path));
  return {
    urlParams: Object.fromEntries(URL_PARAMS.map((p) => [p, text(`urlParams.${p}`)])),
    cookieDays: num('cookieDays'),
    // A form from before this field existed leaves the retention as it is.
    clickRetentionDays:
      valueAt(body, 'clickRetentionDays') === undefined ? current.clickRetentionDays : num('clickRetentionDays'),
    overwriteCookie: text('overwriteCookie') === 'true',
    gdprMode: box('gdprMode'),
    baseCurrency: text('baseCurrency'),
    exchangeRates: exchangeRates(valueAt(body, 'exchangeRates')),
    timezone: text('timezone'),
    defaultApproval: text('defaultApproval'),
    siteUrl: form.nullable(valueAt(body, 'siteUrl')),
    affiliateSignup: text('affiliateSignup'),
    duplicateOrders: text('duplicateOrders'),
    couponCampaignRecognition: box('couponCampaignRecognition'),
    payoutMinimum: num('payoutMinimum'),
    termsText: typeof valueAt(body, 'termsText') === 'string' ? (valueAt(body, 'termsText') as string) : null,
    // A disabled block of fields (the rules of an inactive plugin) is not sent: they stay as they are.
    fraud:
      valueAt(body, 'fraud.duplicateClickSeconds') === undefined
        ? undefined
        : {
            duplicateClickSeconds: num('fraud.duplicateClickSeconds'),
            duplicateClickPerBanner: box('fraud.duplicateClickPerBanner'),
            duplicateClickAction: text('fraud.duplicateClickAction'),
            blockedIps: lines(valueAt(body, 'fraud.blockedIps')),
            blockedIpsAction: text('fraud.blockedIpsAction'),
            blockedCountries: form.list(valueAt(body, 'fraud.blockedCountries')),
            blockedCountriesAction: text('fraud.blockedCountriesAction'),
            refererDeny: lines(valueAt(body, 'fraud.refererDeny')),
            refererDenyAction: text('fraud.refererDenyAction'),
            bots: box('fraud.bots'),
            botsAction: text('fraud.botsAction'),
            selfReferral: box('fraud.selfReferral'),
            selfReferralAction: text('fraud.selfReferralAction'),
            duplicateOrderSeconds: num('fraud.duplicateOrderSeconds'),
            duplicateOrderAction: text('fraud.duplicateOrderAction'),
          },
  };
}

let zones: string[] | null = null;
const timeZones = () =>
  (zones ??= typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);

const actionOptions = FRAUD_ACTIONS.map((value) => ({
  value,
  label:
    value === 'decline'
      ? 'Decline — save it as declined with the reason'
      : 'Drop — do not save it; count it as dropped',
}));

export function settingsPages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = (ctx: AppContext, values: unknown, errors?: Record<string, string>) => {
    const current = ctx.services.settings.get();
    const origin = ctx.services.config.publicUrl ?? `${ctx.protocol}://${ctx.host}`;
    const fraudPlugin = ctx.services.plugins.get('fraud-protection');
    render(ctx, views, 'admin/settings', {
      title: 'Settings',
      nav: 'settings',
      readOnly: ctx.state.user?.role !== 'owner',
      values,
      errors,
      // The postback key is the owner's: masked for managers.
      postbackKey: settingsFor(ctx.state.user, current).postbackKey,
      postbackUrl: `${origin}/postback/${settingsFor(ctx.state.user, current).postbackKey}`,
      timeZones: timeZones(),
      actionOptions,
      fraudPlugin: fraudPlugin ? { exists: true, active: fraudPlugin.active } : null,
      // Rules of an inactive plugin are shown disabled, with a way to turn it on.
      fraudOff: Boolean(fraudPlugin && !fraudPlugin.active),
      signup: signupLink(ctx),
    });
  };

  router.get('/admin/settings', (ctx) => {
    page(ctx, settingsValues(ctx.services.settings.get()));
  });

  // Changing settings is the owner's, as through the API (PATCH /api/v1/settings).
  router.post('/admin/settings', requireRole('owner'), async (ctx) => {
    const body = bodyOf(ctx);
    await handleForm(
      ctx,
      async () => {
        const patch = parse(settingsPatchSchema, settingsInput(body, ctx.services.settings.get()));
        await ctx.services.settings.update(patch, ctx.state.user as Actor);
        flash(ctx, 'success', 'Settings saved.');
        ctx.redirect('/admin/settings');
      },
      (errors) =>
        page(
          ctx,
          // Rules that were shown disabled (so not sent) are shown again as they are stored.
          valueAt(body, 'fraud.duplicateClickSeconds') === undefined
            ? { ...body, fraud: settingsValues(ctx.services.settings.get()).fraud }
            : body,
          summarise(attachListErrors(errors, LIST_FIELDS), FIELDS),
        ),
    );
  });

  router.post(
    '/admin/settings/regenerate-postback-key',
    requireRole('owner'),
    confirmFirst(views, () => ({
      question: 'Generate a new postback key?',
      consequences: [
        'The current postback URL stops working at once: networks and sources that call it get 401 until they use the new key.',
        'This cannot be undone.',
      ],
      action: 'Generate a new postback key',
      back: '/admin/settings',
      nav: 'settings',
    })),
  );
  router.post('/admin/settings/regenerate-postback-key', requireRole('owner'), async (ctx) => {
    await ctx.services.settings.regeneratePostbackKey(ctx.state.user as Actor);
    flash(
      ctx,
      'success',
      'A new postback key was generated. Update the postback URL in your traffic sources and networks.',
    );
    ctx.redirect('/admin/settings');
  });
}
