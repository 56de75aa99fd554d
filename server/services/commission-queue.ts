import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { pendingCommissionIds, type CommissionFilters } from '../store/commissions.js';
import { exportCommissions } from './exports.js';

/** What the commissions queue reads beside its pages (SPEC §6.3): the CSV export and bulk selections. */
export class CommissionQueue {
  constructor(private readonly db: Knex) {}

  /** Every commission the filters match, as CSV. */
  csv(f: CommissionFilters): Readable {
    return exportCommissions(this.db, f);
  }

  /** The ids of every pending commission the filters match ("select all matching"). */
  pendingIds(f: CommissionFilters): Promise<number[]> {
    return pendingCommissionIds(this.db, f);
  }
}
