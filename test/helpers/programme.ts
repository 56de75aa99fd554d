/** The programme most tests start from, made through the merchant API: campaigns with a payout, affiliates. */
import assert from 'node:assert/strict';
import { created } from './assert.js';
import { CHROME, request, type api, type JsonResponse } from './http.js';

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

/** A traffic campaign (the POST /campaigns body, with its alias) with one flow (the POST …/flows body); its id. */
export async function campaignWithFlow(
  a: Api,
  campaign: Record<string, unknown>,
  flow: Record<string, unknown>,
): Promise<number> {
  const id = created(await a.post('/campaigns', campaign), `campaign ${String(campaign.name)}`);
  created(await a.post(`/campaigns/${id}/flows`, flow), `flow of ${String(campaign.name)}`);
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

/**
 * A visitor follows the affiliate `refId`'s link into the campaign (POST /t/click), then buys
 * (POST /t/sale, asserted 201): both answers.
 */
export async function referredSale(
  base: string,
  refId: string,
  campaignId: number,
  orderId: string,
  totalCost: number,
): Promise<{ click: JsonResponse; sale: JsonResponse }> {
  const click = await request(base, 'POST', '/t/click', {
    body: { url: `https://shop.example/?a_aid=${refId}&a_cid=${campaignId}` },
    headers: { 'user-agent': CHROME },
  });
  const sale = await request(base, 'POST', '/t/sale', {
    body: { orderId, totalCost, visitorId: click.body.visitorId },
    headers: { 'user-agent': CHROME },
  });
  assert.equal(sale.status, 201, sale.text);
  return { click, sale };
}
