import type { Knex } from 'knex';
import type { MailPart } from '../domain/mail-templates.js';

/** The merchant's edits of the mail templates (SPEC §13); a template without a row uses its defaults. */

export interface MailTemplateRow {
  name: string;
  enabled: boolean;
  subject: string | null;
  text: string | null;
  html: string | null;
  updatedAt: number;
}

interface Row {
  name: string;
  enabled: number | boolean;
  subject: string | null;
  text: string | null;
  html: string | null;
  updated_at: number | string;
}

const toRow = (r: Row): MailTemplateRow => ({
  name: r.name,
  enabled: Boolean(Number(r.enabled)),
  subject: r.subject,
  text: r.text,
  html: r.html,
  updatedAt: Number(r.updated_at),
});

export async function listMailTemplateRows(db: Knex): Promise<MailTemplateRow[]> {
  return ((await db('mail_templates').select('*')) as Row[]).map(toRow);
}

/** Writes a template's switch and parts (`null` part: the default). */
export async function saveMailTemplateRow(
  db: Knex,
  name: string,
  change: { enabled: boolean } & Record<MailPart, string | null>,
  now: number,
): Promise<void> {
  const cols = {
    enabled: change.enabled,
    subject: change.subject,
    text: change.text,
    html: change.html,
    updated_at: now,
  };
  const changed = await db('mail_templates').where({ name }).update(cols);
  if (Number(changed) === 0) await db('mail_templates').insert({ name, ...cols });
}
