import type { Knex } from 'knex';

/** A customer bound to the affiliate of their first sale in a LIFETIME campaign (SPEC §6.1). */
export interface LifetimeBinding {
  customerKey: string;
  affiliateId: number;
  campaignId: number;
  saleId: number | null;
  createdAt: number;
}

interface BindingRow {
  customer_key: string;
  affiliate_id: number;
  campaign_id: number;
  sale_id: number | string | null;
  created_at: number | string;
}

/** Binds the customer unless already bound: the first binding wins and is never moved. */
export async function bindLifetimeCustomer(db: Knex, b: LifetimeBinding): Promise<void> {
  await db('lifetime_customers')
    .insert({
      customer_key: b.customerKey,
      affiliate_id: b.affiliateId,
      campaign_id: b.campaignId,
      sale_id: b.saleId,
      created_at: b.createdAt,
    })
    .onConflict('customer_key')
    .ignore();
}

export async function findLifetimeCustomer(db: Knex, customerKey: string): Promise<LifetimeBinding | null> {
  const row = (await db('lifetime_customers').where({ customer_key: customerKey }).first()) as BindingRow | undefined;
  if (!row) return null;
  return {
    customerKey: row.customer_key,
    affiliateId: Number(row.affiliate_id),
    campaignId: Number(row.campaign_id),
    saleId: row.sale_id === null ? null : Number(row.sale_id),
    createdAt: Number(row.created_at),
  };
}
