/**
 * Private campaigns (SPEC §3, `type: 'private'`): only invited affiliates promote and earn there.
 * An affiliate is invited to a private campaign by a personal payout of that campaign naming it,
 * or by a coupon of its own in that campaign. Public campaigns, with or without manual approval,
 * are open to every approved affiliate. The affiliate portal (which campaigns it lists) and
 * matching (which clicks are declined, which sales earn) both ask `isInvited`.
 */

export interface InvitingPayout {
  campaignId: number;
  kind: 'general' | 'personal';
  affiliateIds: readonly number[];
}

export interface InvitingCoupon {
  campaignId: number | null;
  affiliateId: number;
}

/** Campaign id → the affiliates invited to it (live payouts and coupons only). */
export type Invitations = ReadonlyMap<number, ReadonlySet<number>>;

export function invitationsOf(payouts: Iterable<InvitingPayout>, coupons: Iterable<InvitingCoupon>): Invitations {
  const out = new Map<number, Set<number>>();
  const invite = (campaignId: number, affiliateId: number) => {
    let set = out.get(campaignId);
    if (!set) out.set(campaignId, (set = new Set()));
    set.add(affiliateId);
  };
  for (const p of payouts) if (p.kind === 'personal') for (const a of p.affiliateIds) invite(p.campaignId, a);
  for (const c of coupons) if (c.campaignId !== null) invite(c.campaignId, c.affiliateId);
  return out;
}

/** May this affiliate promote and earn in this campaign? */
export function isInvited(
  campaign: { id: number; type: 'public' | 'manual' | 'private' },
  affiliateId: number,
  invitations: Invitations,
): boolean {
  return campaign.type !== 'private' || (invitations.get(campaign.id)?.has(affiliateId) ?? false);
}
