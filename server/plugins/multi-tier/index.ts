import type { AffixPlugin } from '../types.js';
import type { BuiltinDeps } from '../contract.js';
import type { PlannedCommission, TierContext } from '../../services/commissions.js';
import { lineDetail, type TierCommission } from '../../domain/payouts.js';
import { add, ZERO, type Units } from '../../domain/money.js';

/** How far up the parent chain the walk goes, whatever the number of tiers. */
export const MAX_LEVELS = 10;

export interface Ancestor {
  affiliateId: number;
  /** 1 = the parent, 2 = the grandparent, … (levels walked, skipped ones included). */
  level: number;
}

export interface AncestorWalk {
  /** The approved ancestors, nearest first: tier n is paid to `approved[n - 2]`. */
  approved: Ancestor[];
  /** Ancestors passed over and why, e.g. "affiliate 4 is pending". */
  skipped: string[];
  /** Why the walk ended. */
  stop: string;
}

/**
 * Walks `parentId` upward from the sale's affiliate. Ancestors that are not approved are
 * skipped and the tier goes to the next approved one up: Post Affiliate Pro does the same
 * (a tier commission is never given to a pending or declined affiliate, and the chain does not
 * break at them). The walk stops at a missing parent, at a loop (an affiliate seen before,
 * including the sale's own affiliate) and after MAX_LEVELS levels.
 */
export function approvedAncestors(affiliateId: number, lookup: TierContext['affiliate'], wanted: number): AncestorWalk {
  const approved: Ancestor[] = [];
  const skipped: string[] = [];
  const visited = new Set<number>([affiliateId]);
  let parentId = lookup(affiliateId)?.parentId ?? null;
  let level = 0;
  let stop = `affiliate ${affiliateId} has no parent`;
  while (approved.length < wanted) {
    if (parentId === null) {
      if (level > 0) stop = `the chain ends at level ${level}`;
      break;
    }
    if (level >= MAX_LEVELS) {
      stop = `stopped after ${MAX_LEVELS} levels`;
      break;
    }
    if (visited.has(parentId)) {
      stop = `loop: affiliate ${parentId} appears twice in the parent chain`;
      break;
    }
    visited.add(parentId);
    level++;
    const parent = lookup(parentId);
    if (!parent) {
      stop = `parent ${parentId} does not exist`;
      break;
    }
    if (parent.status === 'approved') approved.push({ affiliateId: parent.id, level });
    else skipped.push(`affiliate ${parent.id} (level ${level}) is ${parent.status}`);
    parentId = parent.parentId;
  }
  if (approved.length >= wanted) stop = 'every tier has an affiliate';
  return { approved, skipped, stop };
}

const relation = (level: number) =>
  level === 1 ? 'parent' : level === 2 ? 'grandparent' : `ancestor at level ${level}`;

function payoutText(t: TierCommission): string {
  if (t.payoutId !== null) return `payout ${t.payoutId}`;
  return `payouts ${[...new Set(t.lines.map((l) => l.payoutId))].join(', ')}`;
}

/** Tier 2, 3, … commissions of a plan for the parent chain (the `commission.tiers` filter). */
export function tierCommissions(
  ctx: TierContext,
  currency = '',
): { commissions: PlannedCommission[]; walk: AncestorWalk } {
  const upper = ctx.plan.tiers.filter((t) => t.tier >= 2).sort((a, b) => a.tier - b.tier);
  const wanted = upper.length ? (upper[upper.length - 1]?.tier ?? 1) - 1 : 0;
  const walk = approvedAncestors(ctx.affiliateId, ctx.affiliate, wanted);
  const commissions: PlannedCommission[] = [];
  for (const t of upper) {
    const ancestor = walk.approved[t.tier - 2];
    if (!ancestor) continue; // nobody left up the chain: the tier is not paid
    const basisKnown = t.lines.every((l) => l.basis !== null);
    const reason = `tier ${t.tier} of ${payoutText(t)} for affiliate ${ctx.affiliateId}'s ${relation(ancestor.level)} ${ancestor.affiliateId}`;
    commissions.push({
      tier: t.tier,
      affiliateId: ancestor.affiliateId,
      amount: t.amount,
      merchantAmount: ZERO,
      payoutId: t.payoutId,
      basis: basisKnown ? add(...t.lines.map((l) => l.basis as Units)) : null,
      rate: t.lines.length === 1 ? (t.lines[0]?.rate ?? null) : null,
      detail: {
        ...(currency ? { currency } : {}),
        reason,
        fromAffiliateId: ctx.affiliateId,
        level: ancestor.level,
        ...(walk.skipped.length ? { skipped: walk.skipped } : {}),
        lines: t.lines.map(lineDetail),
      },
    });
  }
  return { commissions, walk };
}

/**
 * Multi-tier commissions (SPEC §6.1 `tiers`, §8): a payout's tier n (n ≥ 2) is paid to the
 * (n − 1)-th approved affiliate up the parent chain of the sale's affiliate.
 */
export function createMultiTier(deps?: BuiltinDeps): AffixPlugin {
  return {
    name: 'multi-tier',
    title: 'Multi-tier commissions',
    description:
      "Pays the tiers of a payout (tier 2, 3, …) to the referring affiliate's parent chain: tier 2 to the parent, tier 3 to the grandparent, and so on. Parents that are not approved are skipped and their tier goes to the next approved one up; the chain stops at a loop, a missing parent or after 10 levels.",
    register(hooks, ctx) {
      hooks.addFilter('commission.tiers', (current, tierCtx) => {
        if (!tierCtx.plan.tiers.some((t) => t.tier >= 2)) return current;
        const currency = deps?.cache.peek()?.settings.baseCurrency ?? '';
        const { commissions, walk } = tierCommissions(tierCtx, currency);
        if (commissions.length < tierCtx.plan.tiers.filter((t) => t.tier >= 2).length) {
          ctx.log.debug(
            { affiliateId: tierCtx.affiliateId, stop: walk.stop, skipped: walk.skipped },
            'some tiers have no affiliate to pay',
          );
        }
        // Entries from filters that ran before (lower priority number) are kept ahead of ours.
        return [...current, ...commissions];
      });
    },
  };
}
