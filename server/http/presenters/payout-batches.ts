import { fromUnits } from '../../domain/money.js';
import type { Page } from '../../store/rows.js';
import type { PayoutBatch } from '../../store/payout-batches.js';
import type { PayoutBatchDetail, PayoutItem, PayoutPreview } from '../../services/payout-batches.js';

/** A batch line as JSON: its amount as a decimal number (SPEC §1). */
const itemJson = <I extends PayoutItem>(i: I) => ({ ...i, amount: fromUnits(i.amount) });

/** A payout batch as JSON: minimum and total as decimal numbers. */
export const payoutBatchJson = <B extends PayoutBatch>(b: B) => ({
  ...b,
  minimum: fromUnits(b.minimum),
  total: fromUnits(b.total),
});

export const payoutBatchPageJson = (page: Page<PayoutBatch>) => ({ ...page, data: page.data.map(payoutBatchJson) });

export const payoutBatchDetailJson = (d: PayoutBatchDetail) => ({
  ...payoutBatchJson(d),
  items: d.items.map(itemJson),
});

export const payoutPreviewJson = (p: PayoutPreview) => ({
  ...p,
  minimum: fromUnits(p.minimum),
  total: fromUnits(p.total),
  data: p.data.map(itemJson),
  carriedOver: p.carriedOver.map(itemJson),
});
