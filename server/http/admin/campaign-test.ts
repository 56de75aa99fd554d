import type Router from '@koa/router';
import { isIP } from 'node:net';
import type { AppContext, AppCustom, AppState } from '../context.js';
import type { Views } from '../views.js';
import { bodyOf, idParam, valueAt } from './form-values.js';
import { form } from './render.js';
import { campaignPage } from './campaigns.js';
import { countryOf } from '../../services/geo.js';
import { agentFacts, languagesOf } from '../../services/visitor-facts.js';
import { unitsToFixed } from '../../domain/money.js';
import type { Campaign } from '../../store/campaigns.js';
import type { RunResult } from '../../services/campaign-runner.js';
import { URL_LENGTH, USER_AGENT_LENGTH, charLength, clip } from '../../domain/limits.js';

/*
 * A campaign's "Test" tab: runs the flow selection (SPEC §7.2) for a visitor described by IP,
 * user agent, Accept-Language, referrer and campaign URL parameters — like the Click API with
 * `log=1` (§7.7) — and shows the chosen flow, where the visitor would be sent (macros filled),
 * the cost and the full log. A dry run: no click, uniqueness mark, binding or counter is stored.
 */

type Body = Record<string, unknown>;
type Errors = Record<string, string>;

interface TestValues {
  ip: string;
  userAgent: string;
  acceptLanguage: string;
  referrer: string;
  params: string;
}

const MAX_PARAMS = 100;

const field = (body: Body, name: string) => form.text(valueAt(body, name)) ?? '';

/** The form starts as the admin's own browser, so "Run test" right away simulates them. */
function defaultValues(ctx: AppContext): TestValues {
  return {
    ip: ctx.ip.replace(/^::ffff:/, ''),
    userAgent: clip(ctx.get('User-Agent'), USER_AGENT_LENGTH),
    acceptLanguage: ctx.get('Accept-Language').slice(0, 256),
    referrer: '',
    params: '',
  };
}

/**
 * The parameters textarea: one `name=value` per line (a query string `?a=1&b=2` works too),
 * decoded like a URL. Blank lines are skipped; the first value of a repeated name wins.
 */
export function parseTestParams(text: string): { params: Record<string, string>; error: string | null } {
  const params: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim().replace(/^\?/, '');
    if (!line) continue;
    for (const part of line.split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq <= 0) return { params, error: `line ${i + 1}: write name=value` };
      let name: string;
      let value: string;
      try {
        name = decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' ')).trim();
        value = decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      } catch {
        return { params, error: `line ${i + 1}: malformed %-escape` };
      }
      if (!name || name.length > 100) return { params, error: `line ${i + 1}: a name of 1 to 100 characters` };
      if (!Object.hasOwn(params, name)) params[name] = clip(value, URL_LENGTH);
      if (++count > MAX_PARAMS) return { params, error: `at most ${MAX_PARAMS} parameters` };
    }
  }
  return { params, error: null };
}

function validate(values: TestValues): { errors: Errors; params: Record<string, string> } {
  const errors: Errors = {};
  const ip = values.ip.replace(/^::ffff:/, '');
  if (!ip) errors.ip = 'is required';
  else if (!isIP(ip)) errors.ip = 'must be an IPv4 or IPv6 address';
  if (charLength(values.userAgent) > USER_AGENT_LENGTH) errors.userAgent = `at most ${USER_AGENT_LENGTH} characters`;
  if (values.acceptLanguage.length > 256) errors.acceptLanguage = 'at most 256 characters';
  if (charLength(values.referrer) > URL_LENGTH) errors.referrer = `at most ${URL_LENGTH} characters`;
  const { params, error } = parseTestParams(values.params);
  if (error) errors.params = error;
  return { errors, params };
}

/** What the result panel shows. */
async function runTest(ctx: AppContext, campaign: Campaign, values: TestValues, params: Record<string, string>) {
  const services = ctx.services;
  const snap = await services.cache.snapshot();
  const current = snap.campaigns.get(campaign.id) ?? campaign;
  const ip = values.ip.replace(/^::ffff:/, '');
  const log: string[] = [];
  if (current.status !== 'active')
    log.push(
      `campaign ${current.id} "${current.name}" is paused: its URL runs the campaign parked on its domain; testing its own flows`,
    );
  const result: RunResult = await services.runner.run(
    current,
    {
      ip,
      userAgent: values.userAgent,
      acceptLanguage: values.acceptLanguage,
      referrer: values.referrer || null,
      params,
      uniquenessCookie: null,
    },
    snap,
    log,
    { record: false },
  );
  const flow =
    result.flowId === null ? undefined : (snap.flows.get(current.id) ?? []).find((f) => f.id === result.flowId);
  const agent = agentFacts(values.userAgent);
  const currency = snap.settings.baseCurrency;
  return {
    status: result.status,
    type: result.type,
    flow: flow
      ? { id: flow.id, name: flow.name, type: flow.type }
      : result.flowId === null
        ? null
        : { id: result.flowId, name: `#${result.flowId}`, type: '' },
    url: result.location,
    body: result.body,
    subid: result.subid,
    cost: result.cost === undefined ? null : `${unitsToFixed(result.cost)} ${currency}`,
    facts: {
      country: countryOf(ip) ?? 'unknown',
      device: agent.device,
      os: agent.os ?? 'unknown',
      browser: agent.browser ?? 'unknown',
      bot: agent.isBot,
      languages: languagesOf(values.acceptLanguage).join(', ') || 'none',
    },
    params: Object.entries(params).map(([name, value]) => ({ name, value })),
    log: result.log,
  };
}

export function campaignTestPages(router: Router<AppState, AppCustom>, views: Views): void {
  const page = (ctx: AppContext, campaign: Campaign, values: TestValues, extra: Record<string, unknown> = {}) =>
    campaignPage(ctx, views, campaign, 'test', 'admin/campaign-test', { values, ...extra });

  router.get('/admin/campaigns/:id/test', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    page(ctx, campaign, defaultValues(ctx));
  });

  router.post('/admin/campaigns/:id/test', async (ctx) => {
    const campaign = await ctx.services.campaigns.get(idParam(ctx));
    const body = bodyOf(ctx);
    const values: TestValues = {
      ip: field(body, 'ip'),
      userAgent: field(body, 'userAgent'),
      acceptLanguage: field(body, 'acceptLanguage'),
      referrer: field(body, 'referrer'),
      params: typeof valueAt(body, 'params') === 'string' ? (valueAt(body, 'params') as string) : '',
    };
    const { errors, params } = validate(values);
    if (Object.keys(errors).length) {
      ctx.status = 422;
      page(ctx, campaign, values, { errors: { _form: 'Check the fields marked below.', ...errors } });
      return;
    }
    page(ctx, campaign, values, { result: await runTest(ctx, campaign, values, params) });
  });
}
