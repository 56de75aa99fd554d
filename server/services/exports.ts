import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { csvLine } from '../domain/csv.js';
import { eachAffiliate, type Affiliate, type AffiliateFilters } from '../store/affiliates.js';
import { eachSale, type Sale, type SaleFilters } from '../store/sales.js';
import { eachCommission, type Commission, type CommissionFilters } from '../store/commissions.js';
import { eachClick, type Click, type ClickFilters } from '../store/clicks.js';
import { fromUnits } from '../domain/money.js';

/*
 * CSV exports of the admin lists (SPEC §13 "Everyday admin"), with the list's filters. Rows are
 * read in batches and written as they come (a stream), so an export of every click never sits
 * in memory whole. One CSV writer: domain/csv.ts.
 */

interface Columns<T> {
  header: readonly string[];
  row: (item: T) => readonly unknown[];
}

const AFFILIATE: Columns<Affiliate> = {
  header: [
    'id',
    'refId',
    'name',
    'email',
    'status',
    'parentId',
    'website',
    'promotionMethod',
    'payoutMethod',
    'taxId',
    'acceptedTermsAt',
    'archived',
    'createdAt',
  ],
  row: (a) => [
    a.id,
    a.refId,
    a.name,
    a.email,
    a.status,
    a.parentId,
    a.website,
    a.promotionMethod,
    a.payoutMethod,
    a.taxId,
    a.acceptedTermsAt,
    a.archived,
    a.createdAt,
  ],
};

const SALE: Columns<Sale> = {
  header: [
    'id',
    'at',
    'kind',
    'actionCode',
    'status',
    'orderId',
    'campaignId',
    'affiliateId',
    'bannerId',
    'matchedBy',
    'totalCost',
    'currency',
    'totalCostBase',
    'productId',
    'coupon',
    'channel',
    'customerId',
    'source',
    'declineReason',
  ],
  row: (s) => [
    s.id,
    s.at,
    s.kind,
    s.actionCode,
    s.status,
    s.orderId,
    s.campaignId,
    s.affiliateId,
    s.bannerId,
    s.matchedBy,
    s.totalCost === null ? null : fromUnits(s.totalCost),
    s.currency,
    s.totalCostBase === null ? null : fromUnits(s.totalCostBase),
    s.productId,
    s.coupon,
    s.channel,
    s.customerId,
    s.source,
    s.declineReason,
  ],
};

const COMMISSION: Columns<Commission> = {
  header: [
    'id',
    'createdAt',
    'kind',
    'status',
    'statusReason',
    'amount',
    'merchantAmount',
    'currency',
    'campaignId',
    'affiliateId',
    'saleId',
    'tier',
    'parentId',
    'batchId',
  ],
  row: (c) => [
    c.id,
    c.createdAt,
    c.kind,
    c.status,
    c.statusReason,
    fromUnits(c.amount),
    fromUnits(c.merchantAmount),
    c.currency,
    c.campaignId,
    c.affiliateId,
    c.saleId,
    c.tier,
    c.parentId,
    c.batchId,
  ],
};

const CLICK: Columns<Click> = {
  header: [
    'id',
    'clickId',
    'at',
    'status',
    'declineReason',
    'campaignId',
    'affiliateId',
    'bannerId',
    'matchedBy',
    'channel',
    'data1',
    'data2',
    'ip',
    'country',
    'userAgent',
    'referrer',
    'url',
    'source',
  ],
  row: (c) => [
    c.id,
    c.clickId,
    c.at,
    c.status,
    c.declineReason,
    c.campaignId,
    c.affiliateId,
    c.bannerId,
    c.matchedBy,
    c.channel,
    c.data1,
    c.data2,
    c.ip,
    c.country,
    c.userAgent,
    c.referrer,
    c.url,
    c.source,
  ],
};

/** The header, then one line per item, as a byte stream that reads the next batch only when wanted. */
function csvStream<T>(columns: Columns<T>, items: AsyncGenerator<T>): Readable {
  async function* lines() {
    yield csvLine(columns.header);
    for await (const item of items) yield csvLine(columns.row(item));
  }
  return Readable.from(lines(), { objectMode: false, highWaterMark: 64 * 1024 });
}

export const exportAffiliates = (db: Knex, f: AffiliateFilters) => csvStream(AFFILIATE, eachAffiliate(db, f));
export const exportSales = (db: Knex, f: SaleFilters) => csvStream(SALE, eachSale(db, f));
export const exportCommissions = (db: Knex, f: CommissionFilters) => csvStream(COMMISSION, eachCommission(db, f));
export const exportClicks = (db: Knex, f: ClickFilters) => csvStream(CLICK, eachClick(db, f));

/** The file name of an export: `affix-<what>-<UTC date>.csv`. */
export const exportFileName = (what: string, now: number) =>
  `affix-${what}-${new Date(now).toISOString().slice(0, 10)}.csv`;
