import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/** A visitor's flow, landing and offer in a campaign (SPEC §7.3): kept so a returning visitor sees the same. */
export type VisitorBinding = {
  campaign_id: number;
  visitor_key: string;
  flow_id: number;
  landing_index: number | null;
  offer_index: number | null;
  updated_at: number;
};

/** The campaign's bindings under any of these visitor keys. */
export async function bindingsOf(
  db: Knex,
  campaignId: number,
  visitorKeys: string[],
): Promise<Array<Pick<VisitorBinding, 'visitor_key' | 'flow_id' | 'landing_index' | 'offer_index'>>> {
  return (await db('visitor_bindings').where({ campaign_id: campaignId }).whereIn('visitor_key', visitorKeys)) as Array<
    Pick<VisitorBinding, 'visitor_key' | 'flow_id' | 'landing_index' | 'offer_index'>
  >;
}

/** Stores bindings, replacing a visitor's earlier one in the same campaign. */
export async function saveBindings(db: Knex.Transaction, bindings: VisitorBinding[]): Promise<void> {
  await dialectHelper(db).insertRows(db, 'visitor_bindings', bindings, ['campaign_id', 'visitor_key']);
}
