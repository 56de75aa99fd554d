import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { AffiliateFilters } from '../store/affiliates.js';
import { affiliateFigures } from './affiliate-figures.js';
import { exportAffiliates } from './exports.js';

/** What the affiliate pages read beside AffiliateService: the last 30 days' figures and the CSV export. */
export class AffiliateOverview {
  constructor(private readonly db: Knex) {}

  figures(affiliateId: number, now: number, timeZone: string, currency: string): ReturnType<typeof affiliateFigures> {
    return affiliateFigures(this.db, affiliateId, now, timeZone, currency);
  }

  csv(f: AffiliateFilters): Readable {
    return exportAffiliates(this.db, f);
  }
}
