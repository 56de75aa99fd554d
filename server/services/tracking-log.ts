import type { Readable } from 'node:stream';
import type { Knex } from 'knex';
import type { PageQuery } from '../validation.js';
import type { Page } from '../store/rows.js';
import { listClicks, type Click, type ClickFilters } from '../store/clicks.js';
import { getSale, listSales, type Sale, type SaleFilters } from '../store/sales.js';
import { allConversions, listConversions, type ConversionEntry, type ConversionFilters } from '../store/conversions.js';
import { exportClicks, exportSales } from './exports.js';

/** The Clicks, Sales and Conversions logs (SPEC §9, §15): lists, one sale, and CSV exports. */
export class TrackingLog {
  constructor(private readonly db: Knex) {}

  clicks(f: ClickFilters, page: PageQuery): Promise<Page<Click>> {
    return listClicks(this.db, f, page);
  }

  clicksCsv(f: ClickFilters): Readable {
    return exportClicks(this.db, f);
  }

  sales(f: SaleFilters, page: PageQuery): Promise<Page<Sale>> {
    return listSales(this.db, f, page);
  }

  salesCsv(f: SaleFilters): Readable {
    return exportSales(this.db, f);
  }

  /** One sale or action with its match trace; null when there is none with this id. */
  sale(id: number): Promise<Sale | null> {
    return getSale(this.db, id);
  }

  conversions(f: ConversionFilters, page: PageQuery): Promise<Page<ConversionEntry>> {
    return listConversions(this.db, f, page);
  }

  /** Every matching conversion, newest first, at most `limit` (the CSV export). */
  allConversions(f: ConversionFilters, limit: number): Promise<ConversionEntry[]> {
    return allConversions(this.db, f, limit);
  }
}
