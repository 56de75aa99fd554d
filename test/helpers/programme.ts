/** The programme most tests start from, made through the merchant API: campaigns with a payout, affiliates. */
import { created } from './assert.js';
import type { api } from './http.js';

type Api = ReturnType<typeof api>;

/** A general payout of 10% of each sale. */
export const TEN_PERCENT = { title: '10%', type: 'CPS', affiliateCommission: { value: 10, unit: 'percent' } };

/** A campaign (the POST /campaigns body) with one general payout (10% of each sale unless said); its id. */
export async function campaignWithPayout(
  a: Api,
  campaign: Record<string, unknown>,
  payout: Record<string, unknown> = TEN_PERCENT,
): Promise<number> {
  const id = created(await a.post('/campaigns', campaign), `campaign ${String(campaign.name)}`);
  created(
    await a.post(`/campaigns/${id}/payouts`, { kind: 'general', ...payout }),
    `payout of ${String(campaign.name)}`,
  );
  return id;
}

/** An approved affiliate with this name and refId, and the email <refId>@example.com; its id. */
export async function approvedAffiliate(
  a: Api,
  name: string,
  refId: string,
  extra: Record<string, unknown> = {},
): Promise<number> {
  return created(
    await a.post('/affiliates', { name, email: `${refId}@example.com`, refId, status: 'approved', ...extra }),
    `affiliate ${refId}`,
  );
}
