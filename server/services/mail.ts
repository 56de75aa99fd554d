import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger.js';
import type { Config } from '../config.js';
import type { Settings } from '../domain/settings.js';
import type { Actor } from './actor.js';
import type { Outbox, OutboxEvent } from './outbox.js';
import type { MailSender } from './outbox-worker.js';
import { transaction } from '../db/transaction.js';
import { recordAudit } from '../store/audit.js';
import { affiliateContactRow } from '../store/affiliates.js';
import { ownerEmails } from '../store/users.js';
import { listMailTemplateRows, saveMailTemplateRow, type MailTemplateRow } from '../store/mail-templates.js';
import { listMails, type MailEntry, type OutboxRow, type OutboxStatus } from '../store/outbox.js';
import type { Page } from '../store/rows.js';
import type { PageQuery } from '../validation.js';
import { fieldError, notFound } from '../errors.js';
import {
  MAIL_PARTS,
  MAIL_TEMPLATES,
  MAIL_TEMPLATE_NAMES,
  TemplateSyntaxError,
  checkMailSource,
  renderMail,
  type MailPart,
  type MailSource,
  type MailTemplateName,
  type RenderedMail,
} from '../domain/mail-templates.js';
import { formatMoney, toUnits } from '../domain/money.js';
import { URL_LENGTH, clip } from '../domain/limits.js';

const templatesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../mail-templates');

/** A template as the merchant edits it: the source in use, whether it is on, whether it differs from the default. */
export interface MailTemplate {
  name: MailTemplateName;
  enabled: boolean;
  source: MailSource;
  defaults: MailSource;
  customized: Record<MailPart, boolean>;
  to: string;
  when: string;
}

/** The stored mail as the outbox row's body holds it. */
interface StoredMail extends RenderedMail {
  to: string;
}

/** Reads the default templates: mail-templates/<name>.{subject,text,html}.hbs. */
export function loadDefaultTemplates(dir = templatesDir): Record<MailTemplateName, MailSource> {
  const out = {} as Record<MailTemplateName, MailSource>;
  for (const name of MAIL_TEMPLATE_NAMES) {
    const read = (part: MailPart) => fs.readFileSync(path.join(dir, `${name}.${part}.hbs`), 'utf8');
    out[name] = { subject: read('subject'), text: read('text'), html: read('html') };
  }
  return out;
}

/** How long a process trusts its copy of the template edits (another process may save one). */
const TEMPLATE_CACHE_MS = 1000;

export interface MailDeps {
  db: Knex;
  config: Config;
  outbox: Outbox;
  settings: () => Settings;
  log: Logger;
  clock?: () => number;
  /** Replaces the SMTP transport (never needed by tests, which run a real SMTP server). */
  transport?: Transporter;
}

/**
 * Mail (SPEC §13). A mail is rendered when the event that causes it happens and written to the
 * outbox in that event's transaction (`queue`); the outbox worker delivers it over SMTP with the
 * outbox's retries (`send`). Without SMTP_URL mails are kept as `not_sent` and nothing else
 * changes.
 */
export class MailService implements MailSender {
  private readonly db: Knex;
  private readonly config: Config;
  private readonly outbox: Outbox;
  private readonly settings: () => Settings;
  private readonly log: Logger;
  private readonly clock: () => number;
  private readonly defaults = loadDefaultTemplates();
  private readonly transport: Transporter | null;
  private edits: { at: number; rows: Map<string, MailTemplateRow> } | null = null;

  constructor(deps: MailDeps) {
    this.db = deps.db;
    this.config = deps.config;
    this.outbox = deps.outbox;
    this.settings = deps.settings;
    this.log = deps.log;
    this.clock = deps.clock ?? Date.now;
    this.transport =
      deps.transport ?? (deps.config.mail.smtpUrl ? nodemailer.createTransport(deps.config.mail.smtpUrl) : null);
  }

  /** Is an SMTP server configured? Without one, mails are kept as `not_sent`. */
  get configured(): boolean {
    return this.transport !== null;
  }

  /** Will a mail of this template reach its recipient (SMTP configured and the template on)? */
  async willSend(name: MailTemplateName): Promise<boolean> {
    return this.configured && (await this.template(name)).enabled;
  }

  /** The tracker's origin, for links in mails: PUBLIC_URL (never the Host of a request, which a client picks). */
  origin(): string {
    return this.config.publicUrl ?? `http://localhost:${this.config.port}`;
  }

  // ---- Templates ------------------------------------------------------------------------------

  private async editsOf(db: Knex): Promise<Map<string, MailTemplateRow>> {
    const now = Date.now();
    if (this.edits && now - this.edits.at < TEMPLATE_CACHE_MS) return this.edits.rows;
    const rows = new Map((await listMailTemplateRows(db)).map((r) => [r.name, r]));
    this.edits = { at: now, rows };
    return rows;
  }

  private compose(name: MailTemplateName, row: MailTemplateRow | undefined): MailTemplate {
    const info = MAIL_TEMPLATES[name];
    const defaults = this.defaults[name];
    const part = (p: MailPart) => row?.[p] ?? defaults[p];
    return {
      name,
      enabled: row ? row.enabled : info.enabledByDefault,
      source: { subject: part('subject'), text: part('text'), html: part('html') },
      defaults,
      customized: {
        subject: (row?.subject ?? null) !== null,
        text: (row?.text ?? null) !== null,
        html: (row?.html ?? null) !== null,
      },
      to: info.to,
      when: info.when,
    };
  }

  async templates(db: Knex = this.db): Promise<MailTemplate[]> {
    const rows = await this.editsOf(db);
    return MAIL_TEMPLATE_NAMES.map((n) => this.compose(n, rows.get(n)));
  }

  async template(name: string, db: Knex = this.db): Promise<MailTemplate> {
    if (!(MAIL_TEMPLATE_NAMES as readonly string[]).includes(name)) throw notFound('mail template', name);
    const rows = await this.editsOf(db);
    return this.compose(name as MailTemplateName, rows.get(name));
  }

  /**
   * Saves an edit. A part equal to its default is stored as "the default", so later improvements
   * of the default reach it. A part that does not compile is a 422 naming the part and the line.
   */
  async saveTemplate(name: string, change: { enabled: boolean } & MailSource, actor: Actor): Promise<MailTemplate> {
    const current = await this.template(name);
    const source: MailSource = { subject: change.subject, text: change.text, html: change.html };
    try {
      checkMailSource(source);
    } catch (err) {
      if (err instanceof TemplateSyntaxError) throw fieldError(err.part, err.message);
      throw err;
    }
    const norm = (s: string) => s.replace(/\r\n/g, '\n');
    const stored = (p: MailPart) => (norm(source[p]) === norm(current.defaults[p]) ? null : norm(source[p]));
    const now = this.clock();
    await transaction(
      this.db,
      async (trx) => {
        await saveMailTemplateRow(
          trx,
          name,
          { enabled: change.enabled, subject: stored('subject'), text: stored('text'), html: stored('html') },
          now,
        );
        await recordAudit(trx, actor, 'mailTemplate.saved', 'mailTemplate', name, {
          enabled: change.enabled,
          customized: MAIL_PARTS.filter((p) => stored(p) !== null),
        });
      },
      // A template save runs once: a conflict with another save answers as an error.
      { attempts: 1 },
    );
    this.edits = null;
    return this.template(name);
  }

  /** Renders a template (the saved one, or `source` being edited) with its sample data. */
  async preview(name: string, source?: MailSource): Promise<RenderedMail> {
    const t = await this.template(name);
    const use = source ?? t.source;
    try {
      checkMailSource(use);
    } catch (err) {
      if (err instanceof TemplateSyntaxError) throw fieldError(err.part, err.message);
      throw err;
    }
    return renderMail(use, { ...MAIL_TEMPLATES[t.name].sample, site: this.site() });
  }

  /** The `site` every template sees: the store's name (its host) and URL, the tracker's URL. */
  site(): { name: string; url: string | null; trackerUrl: string } {
    const siteUrl = this.settings().siteUrl;
    let name = 'Affix';
    if (siteUrl) {
      try {
        name = new URL(siteUrl).hostname.replace(/^www\./, '');
      } catch {
        // a stored siteUrl is checked when saved; keep the fallback name
      }
    }
    return { name, url: siteUrl, trackerUrl: this.origin() };
  }

  // ---- Queueing ---------------------------------------------------------------------------------

  /**
   * Renders a mail and writes it to the outbox in `trx` (the transaction of the event that causes
   * it). Nothing is written when the template is switched off. Answers whether a mail was queued.
   */
  async queue(
    trx: Knex,
    name: MailTemplateName,
    to: string | string[],
    data: Record<string, unknown>,
  ): Promise<boolean> {
    const recipients = (Array.isArray(to) ? to : [to]).map((a) => a.trim()).filter((a) => a.includes('@'));
    if (!recipients.length) return false;
    const t = this.compose(name, (await this.editsOf(trx)).get(name));
    if (!t.enabled) return false;
    let mail: RenderedMail;
    try {
      mail = renderMail(t.source, { ...data, site: this.site() });
    } catch (err) {
      // A saved template always compiled; this is a bug, and must not fail the event itself.
      this.log.error({ err, template: name }, 'a mail template failed to render; the mail is not queued');
      return false;
    }
    await this.outbox.queue(
      trx,
      name,
      recipients.map((address) => ({
        channel: 'mail' as const,
        method: 'SMTP' as const,
        url: clip(`mailto:${address}`, URL_LENGTH),
        body: JSON.stringify({ to: address, ...mail } satisfies StoredMail),
        status: this.configured ? ('pending' as const) : ('not_sent' as const),
      })),
    );
    return true;
  }

  /** The mails of commission events, written in the event's transaction (the outbox's listener). */
  async forEvent(trx: Knex, event: OutboxEvent, payload: Record<string, unknown>): Promise<void> {
    if (event !== 'commission.created' && event !== 'commission.approved') return;
    // commission.created is on the sale path: a switched-off template costs no query.
    const t = this.compose(event, (await this.editsOf(trx)).get(event));
    if (!t.enabled) return;
    const c = payload.commission as
      | { id?: number; affiliateId?: number | null; amount?: number; currency?: string; status?: string; tier?: number }
      | undefined;
    if (!c || !c.affiliateId || typeof c.amount !== 'number' || c.amount <= 0) return;
    const affiliate = await this.affiliateContact(trx, c.affiliateId);
    if (!affiliate) return;
    await this.queue(trx, event, affiliate.email, {
      affiliate,
      commission: {
        id: c.id,
        amount: formatMoney(toUnits(c.amount)),
        currency: c.currency,
        status: c.status,
        tier: c.tier,
      },
      portalUrl: `${this.origin()}/portal/commissions`,
    });
  }

  /** An affiliate as the templates see it. */
  async affiliateContact(
    db: Knex,
    id: number,
  ): Promise<{ id: number; name: string; email: string; refId: string; status: string } | null> {
    const row = await affiliateContactRow(db, id);
    return row ? { id: Number(row.id), name: row.name, email: row.email, refId: row.ref_id, status: row.status } : null;
  }

  /** The addresses of every owner (merchant alerts). */
  async ownerAddresses(db: Knex): Promise<string[]> {
    return ownerEmails(db);
  }

  // ---- Delivery -------------------------------------------------------------------------------

  /** Sends one mail row over SMTP (the outbox worker's sender). A 5xx answer is final; anything else is retried. */
  async send(row: OutboxRow, timeoutMs: number): Promise<{ error: string | null; permanent: boolean }> {
    if (!this.transport) return { error: 'e-mail is not configured (SMTP_URL)', permanent: true };
    let mail: StoredMail;
    try {
      mail = JSON.parse(row.body ?? '') as StoredMail;
    } catch {
      return { error: 'the stored mail is not readable', permanent: true };
    }
    try {
      // Each try has its own time limits, so a server that stopped answering cannot hold the lock.
      const transport = this.transport as Transporter & {
        options?: Record<string, unknown>;
      };
      if (transport.options) {
        transport.options.connectionTimeout = timeoutMs;
        transport.options.greetingTimeout = timeoutMs;
        transport.options.socketTimeout = timeoutMs;
      }
      await transport.sendMail({
        from: this.config.mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // The outbox row: a receiver can tell a repeated delivery (sent again after a crash) apart.
        headers: { 'X-Affix-Mail': String(row.id), 'X-Affix-Template': row.event },
      });
      return { error: null, permanent: false };
    } catch (err) {
      const e = err as { responseCode?: number; message?: string; code?: string };
      const message = `${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`.slice(0, 500);
      const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500 && e.responseCode < 600;
      return { error: message, permanent };
    }
  }

  // ---- The Mail page ----------------------------------------------------------------------------

  /** Sent, failed, waiting and not-sent mails, newest first. */
  list(status: OutboxStatus | undefined, page: PageQuery): Promise<Page<MailEntry>> {
    return listMails(this.db, status, page);
  }
}
