import Handlebars from 'handlebars';

/**
 * The mail templates of SPEC §13: their names, who receives them, whether they are on by
 * default, the data they are rendered with (with a sample for the preview), and the rules a
 * merchant's edit must pass. Pure: the default texts are read from mail-templates/ by the mail
 * service, the edits from the database.
 */

export const MAIL_TEMPLATE_NAMES = [
  'affiliate.signup_received',
  'affiliate.approved',
  'affiliate.declined',
  'commission.created',
  'commission.approved',
  'payout.paid',
  'merchant.affiliate_signup',
  'merchant.daily_summary',
  'account.password_reset',
  'account.verify_email',
  'account.invite',
] as const;

export type MailTemplateName = (typeof MAIL_TEMPLATE_NAMES)[number];

export const MAIL_PARTS = ['subject', 'text', 'html'] as const;
export type MailPart = (typeof MAIL_PARTS)[number];
export type MailSource = Record<MailPart, string>;

export const isMailTemplateName = (v: unknown): v is MailTemplateName =>
  typeof v === 'string' && (MAIL_TEMPLATE_NAMES as readonly string[]).includes(v);

/**
 * Account mails carry a one-time link: their bodies are not shown on the Mail page or through the
 * outbox API, where a manager could otherwise take over another account.
 */
export const isSecretMail = (name: string) => name.startsWith('account.');

const SITE = { name: 'Example Shop', url: 'https://shop.example.com', trackerUrl: 'https://track.example.com' };
const AFFILIATE = { name: 'Ann Example', email: 'ann@example.com', refId: 'ann42', status: 'approved' };

export interface MailTemplateInfo {
  name: MailTemplateName;
  /** Who receives it, in the merchant's words. */
  to: string;
  /** When it is sent. */
  when: string;
  enabledByDefault: boolean;
  /** Data for the preview; real mails have the same shape. */
  sample: Record<string, unknown>;
}

export const MAIL_TEMPLATES: Record<MailTemplateName, MailTemplateInfo> = {
  'affiliate.signup_received': {
    name: 'affiliate.signup_received',
    to: 'the affiliate',
    when: 'an affiliate signs up in the portal and waits for approval',
    enabledByDefault: true,
    sample: { site: SITE, affiliate: { ...AFFILIATE, status: 'pending' }, portalUrl: `${SITE.trackerUrl}/portal` },
  },
  'affiliate.approved': {
    name: 'affiliate.approved',
    to: 'the affiliate',
    when: 'the merchant approves an affiliate (or sign-up is open and the affiliate is approved at once)',
    enabledByDefault: true,
    sample: { site: SITE, affiliate: AFFILIATE, portalUrl: `${SITE.trackerUrl}/portal` },
  },
  'affiliate.declined': {
    name: 'affiliate.declined',
    to: 'the affiliate',
    when: 'the merchant declines an affiliate',
    enabledByDefault: true,
    sample: { site: SITE, affiliate: { ...AFFILIATE, status: 'declined' } },
  },
  'commission.created': {
    name: 'commission.created',
    to: 'the affiliate',
    when: 'a sale or action earns the affiliate a commission',
    enabledByDefault: false,
    sample: {
      site: SITE,
      affiliate: AFFILIATE,
      commission: { id: 1042, amount: '12.50', currency: 'USD', status: 'pending' },
      portalUrl: `${SITE.trackerUrl}/portal/commissions`,
    },
  },
  'commission.approved': {
    name: 'commission.approved',
    to: 'the affiliate',
    when: 'the merchant approves a commission',
    enabledByDefault: true,
    sample: {
      site: SITE,
      affiliate: AFFILIATE,
      commission: { id: 1042, amount: '12.50', currency: 'USD', status: 'approved' },
      portalUrl: `${SITE.trackerUrl}/portal/commissions`,
    },
  },
  'payout.paid': {
    name: 'payout.paid',
    to: 'the affiliate',
    when: 'a payout batch that pays the affiliate is marked paid',
    enabledByDefault: true,
    sample: {
      site: SITE,
      affiliate: AFFILIATE,
      payout: { batchId: 7, amount: '245.00', currency: 'USD', commissions: 18 },
      portalUrl: `${SITE.trackerUrl}/portal/commissions`,
    },
  },
  'merchant.affiliate_signup': {
    name: 'merchant.affiliate_signup',
    to: 'every owner',
    when: 'an affiliate signs up in the portal',
    enabledByDefault: true,
    sample: {
      site: SITE,
      affiliate: { ...AFFILIATE, status: 'pending' },
      affiliateUrl: `${SITE.trackerUrl}/admin/affiliates/3`,
    },
  },
  'merchant.daily_summary': {
    name: 'merchant.daily_summary',
    to: 'every owner',
    when: 'once a day, shortly after midnight in the report time zone, for the day before',
    enabledByDefault: false,
    sample: {
      site: SITE,
      day: '2026-12-01',
      clicks: 1520,
      sales: 31,
      revenue: '2,480.00',
      commissions: '248.00',
      currency: 'USD',
      newAffiliates: 2,
      adminUrl: `${SITE.trackerUrl}/admin`,
    },
  },
  'account.password_reset': {
    name: 'account.password_reset',
    to: 'the account that asked',
    when: 'someone asks for a password reset of an account',
    enabledByDefault: true,
    sample: {
      site: SITE,
      account: { name: 'Ann Example', email: 'ann@example.com' },
      resetUrl: `${SITE.trackerUrl}/portal/reset-password?token=SAMPLE`,
      validMinutes: 60,
    },
  },
  'account.verify_email': {
    name: 'account.verify_email',
    to: 'the affiliate who signed up',
    when: 'an affiliate signs up in the portal',
    enabledByDefault: true,
    sample: {
      site: SITE,
      account: { name: 'Ann Example', email: 'ann@example.com' },
      verifyUrl: `${SITE.trackerUrl}/portal/verify?token=SAMPLE`,
    },
  },
  'account.invite': {
    name: 'account.invite',
    to: 'the invited staff member',
    when: 'an owner invites someone to the admin',
    enabledByDefault: true,
    sample: {
      site: SITE,
      account: { email: 'sam@example.com', role: 'manager' },
      invitedBy: 'owner@example.com',
      acceptUrl: `${SITE.trackerUrl}/reset-password?token=SAMPLE&invite=1`,
      validDays: 7,
    },
  },
};

/** A template part that does not compile, with the line the problem is on. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
  constructor(
    readonly part: MailPart,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(line === null ? problem : `line ${line}: ${problem}`);
  }
}

const hb = Handlebars.create();
// Only the built-in block helpers (if, unless, each, with, lookup): a template cannot call code.
const COMPILE = { knownHelpersOnly: true, strict: false } as const;

function lineOf(err: unknown): number | null {
  const e = err as { lineNumber?: unknown; message?: unknown };
  if (typeof e.lineNumber === 'number') return e.lineNumber;
  const m = /on line (\d+)/.exec(String(e.message ?? ''));
  return m ? Number(m[1]) : null;
}

function describe(err: unknown): string {
  const message = String((err as { message?: unknown }).message ?? err);
  if (/got 'EOF'/.test(message)) return 'the template ends inside a tag or block (is a {{/if}} or {{/each}} missing?)';
  const unknownHelper = /unknown helper (\S+)/.exec(message);
  if (unknownHelper) return `"${unknownHelper[1]}" is not a helper; only if, unless, each and with are available`;
  const mismatch = /(\S+) doesn't match (\S+)/.exec(message);
  if (mismatch) return `{{/${mismatch[2]}}} closes a block opened as {{#${mismatch[1]}}}`;
  const expecting = /(Expecting [^\n]*)/.exec(message);
  return expecting ? `not valid Handlebars (${expecting[1]})` : message.split('\n')[0]!.replace(/ - \d+:\d+$/, '');
}

/** Refuses partials and decorators, which a mail template has no use for. */
class NoPartials extends Handlebars.Visitor {
  found: { line: number; what: string } | null = null;
  private note(node: { loc?: { start: { line: number } } }, what: string) {
    this.found ??= { line: node.loc?.start.line ?? 1, what };
  }
  override PartialStatement(node: hbs.AST.PartialStatement) {
    this.note(node, 'partials ({{> …}}) are not available in mail templates');
  }
  override PartialBlockStatement(node: hbs.AST.PartialBlockStatement) {
    this.note(node, 'partials ({{#> …}}) are not available in mail templates');
  }
  override DecoratorBlock(node: hbs.AST.DecoratorBlock) {
    this.note(node, 'decorators are not available in mail templates');
  }
  override Decorator(node: hbs.AST.Decorator) {
    this.note(node, 'decorators are not available in mail templates');
  }
}

/** Compiles one part; throws `TemplateSyntaxError` naming the line. */
export function compilePart(part: MailPart, source: string): Handlebars.TemplateDelegate {
  let ast: hbs.AST.Program;
  try {
    ast = hb.parse(source);
  } catch (err) {
    throw new TemplateSyntaxError(part, lineOf(err), describe(err));
  }
  const visitor = new NoPartials();
  visitor.accept(ast);
  if (visitor.found) throw new TemplateSyntaxError(part, visitor.found.line, visitor.found.what);
  try {
    // The subject and the text are plain text: nothing is HTML-escaped in them.
    const fn = hb.compile(source, { ...COMPILE, noEscape: part !== 'html' });
    // Compilation is lazy: run it once so helper and block errors surface now, with their line.
    fn({});
    return fn;
  } catch (err) {
    throw new TemplateSyntaxError(part, lineOf(err), describe(err));
  }
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Renders a template's three parts with `data`. The subject is one line. */
export function renderMail(source: MailSource, data: Record<string, unknown>): RenderedMail {
  const run = (part: MailPart) => compilePart(part, source[part])(data, { allowProtoPropertiesByDefault: false });
  return {
    subject: run('subject').replace(/\s+/g, ' ').trim().slice(0, 250),
    text: run('text'),
    html: run('html'),
  };
}

/** Checks every part of an edit; the first problem found is thrown. */
export function checkMailSource(source: MailSource): void {
  for (const part of MAIL_PARTS) compilePart(part, source[part]);
  if (!source.subject.trim()) throw new TemplateSyntaxError('subject', null, 'must not be empty');
}
