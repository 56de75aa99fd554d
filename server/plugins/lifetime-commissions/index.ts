import type { AffixPlugin, PluginContext } from '../types.js';
import type { BuiltinDeps } from '../contract.js';
import type { CandidateArgs, LifetimeCandidate, RecordedSale } from '../../services/sales.js';
import type { PayoutDef } from '../../domain/payouts.js';
import { KEY_LENGTH } from '../../domain/limits.js';

/** The longest key `lifetime_customers.customer_key` holds. */
const KEY_MAX = KEY_LENGTH;

/** A LIFETIME payout that can pay this affiliate: a general one, or a personal one naming them. */
export const lifetimePayoutFor = (payouts: PayoutDef[], affiliateId: number): PayoutDef | undefined =>
  payouts.find((p) => p.type === 'LIFETIME' && (p.kind === 'general' || p.affiliateIds.includes(affiliateId)));

/** The customer key of a recorded sale: the payload's, else customerId, else the body's visitorId. */
function customerKeyOf(sale: RecordedSale): string | null {
  const key =
    sale.customerKey !== undefined ? sale.customerKey : (sale.input.customerId ?? sale.input.visitorId ?? null);
  return key && key.length <= KEY_MAX ? key : null;
}

/**
 * Lifetime commissions (SPEC §5.2 rule 1, §6.1 `LIFETIME`). A sale paid in a campaign with a
 * LIFETIME payout binds its customer (`customerId`, else `visitorId`) to the sale's affiliate,
 * once: the first binding wins and is never moved. Every later sale of that customer is offered
 * to rule 1 as a lifetime referral of that affiliate, with or without its campaign
 * (`recogniseCampaign`).
 */
export function createLifetimeCommissions(deps: BuiltinDeps): AffixPlugin {
  const { lifetimeCustomers, cache, clock } = deps;

  async function bind(sale: RecordedSale, log: PluginContext['log']): Promise<void> {
    if (
      sale.kind !== 'sale' ||
      sale.duplicate ||
      sale.saleId === null ||
      sale.status === 'declined' ||
      sale.affiliateId === null
    )
      return;
    const key = customerKeyOf(sale);
    if (!key) return;
    const snap = await cache.snapshot();
    if (snap.affiliates.get(sale.affiliateId)?.status !== 'approved') return;
    const payout = lifetimePayoutFor(snap.payoutsOf(sale.campaignId), sale.affiliateId);
    if (!payout) return;
    // First binding wins: a customer already bound (to anyone) keeps their affiliate.
    await lifetimeCustomers.bind({
      customerKey: key,
      affiliateId: sale.affiliateId,
      campaignId: sale.campaignId,
      saleId: sale.saleId,
      createdAt: clock(),
    });
    log.debug(
      { saleId: sale.saleId, affiliateId: sale.affiliateId, payoutId: payout.id },
      'lifetime customer bound (unless already bound)',
    );
  }

  async function lookup(
    current: LifetimeCandidate[],
    args: CandidateArgs,
    settings: Record<string, unknown>,
  ): Promise<LifetimeCandidate[]> {
    const key = args.customerKey;
    if (!key || key.length > KEY_MAX) return current;
    const bound = await lifetimeCustomers.find(key);
    if (!bound) return current;
    const since = new Date(bound.createdAt).toISOString().slice(0, 10);
    const candidate: LifetimeCandidate = {
      affiliateId: bound.affiliateId,
      campaignId: settings.recogniseCampaign === false ? null : bound.campaignId,
      detail: `lifetime customer of affiliate ${bound.affiliateId} since ${since}${bound.saleId !== null ? ` (sale ${bound.saleId})` : ''}`,
    };
    // Appended: rule 1 uses the first candidate, so one offered by a filter that ran before this
    // one (a lower priority number) keeps precedence; a plugin that must win registers before.
    return [...current, candidate];
  }

  return {
    name: 'lifetime-commissions',
    title: 'Lifetime commissions',
    description:
      'A sale in a campaign with a LIFETIME payout binds the customer (customerId, else the visitor id) to the affiliate; every later sale of that customer is credited to the same affiliate, even without a click, cookie or coupon (matching rule 1).',
    settings: [
      {
        key: 'recogniseCampaign',
        label: 'Recognise the campaign',
        type: 'boolean',
        default: true,
        help: "On: a lifetime customer's sales go to the campaign of the binding. Off: only the affiliate is kept; the campaign comes from the other matching rules.",
      },
    ],
    register(hooks, ctx) {
      hooks.addFilter('sale.matchCandidates', (current, args) => lookup(current, args, ctx.settings()));
      hooks.addAction('sale.recorded', (sale) => bind(sale, ctx.log));
    },
  };
}
