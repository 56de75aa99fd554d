import type { Knex } from 'knex';
import type { PageQuery } from '../validation.js';
import type { Page } from '../store/rows.js';
import { listAudit, type AuditEntry } from '../store/audit.js';

/** The audit log as the API lists it: who changed what, newest first. */
export class AuditLog {
  constructor(private readonly db: Knex) {}

  list(filters: { objectType?: string; objectId?: string }, page: PageQuery): Promise<Page<AuditEntry>> {
    return listAudit(this.db, filters, page);
  }
}
