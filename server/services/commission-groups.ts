import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { conflict, fieldError, notFound } from '../errors.js';
import * as store from '../store/commission-groups.js';
import type { CommissionGroupCreate, CommissionGroupPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';

/**
 * Commission groups (SPEC §14, Post Affiliate Pro's): a personal payout naming a group applies to
 * every member. A group still named by a personal payout that names nobody else cannot be
 * deleted: the payout would be left applying to no one.
 */
export class CommissionGroupService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.CommissionGroupFilters, page: PageQuery) {
    return store.listCommissionGroups(this.db, filters, page);
  }

  all() {
    return store.allCommissionGroups(this.db);
  }

  async get(id: number): Promise<store.CommissionGroup> {
    const group = await store.getCommissionGroup(this.db, id);
    if (!group) throw notFound('commission group', id);
    return group;
  }

  async create(input: CommissionGroupCreate, actor: Actor): Promise<store.CommissionGroup> {
    const now = this.clock();
    const id = await audited(this.db, actor, 'commission_group.created', 'commission_group', async (trx) => {
      const affiliateIds = [...new Set(input.affiliateIds ?? [])];
      await checkAffiliates(trx, affiliateIds);
      const newId = await store.insertCommissionGroup(trx, { name: input.name, created_at: now, updated_at: now });
      await store.replaceMembers(trx, newId, affiliateIds);
      return { result: newId, objectId: newId, details: changedFields(input) };
    });
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: CommissionGroupPatch, actor: Actor): Promise<store.CommissionGroup> {
    const now = this.clock();
    await audited(this.db, actor, 'commission_group.updated', 'commission_group', async (trx) => {
      if (!(await store.getCommissionGroup(trx, id))) throw notFound('commission group', id);
      await store.updateCommissionGroup(trx, id, {
        ...(patch.name !== undefined && { name: patch.name }),
        updated_at: now,
      });
      if (patch.affiliateIds) {
        const affiliateIds = [...new Set(patch.affiliateIds)];
        await checkAffiliates(trx, affiliateIds);
        await store.replaceMembers(trx, id, affiliateIds);
      }
      return { result: null, objectId: id, details: changedFields(patch) };
    });
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await audited(this.db, actor, 'commission_group.deleted', 'commission_group', async (trx) => {
      const current = await store.getCommissionGroup(trx, id);
      if (!current) throw notFound('commission group', id);
      const stranded = current.payoutIds.length ? await store.payoutsOnlyNaming(trx, id, current.payoutIds) : [];
      if (stranded.length)
        throw conflict(
          `Commission group ${id} is the only thing personal payout ${stranded.join(', ')} names: give the payout affiliates or another group first`,
        );
      await store.deleteCommissionGroup(trx, id);
      return { result: null, objectId: id, details: { name: current.name } };
    });
    this.onChange();
  }
}

async function checkAffiliates(db: Knex, ids: number[]): Promise<void> {
  if (!ids.length) return;
  const found = await store.existingAffiliateIds(db, ids);
  const missing = ids.filter((i) => !found.has(i));
  if (missing.length) throw fieldError('affiliateIds', `affiliate ${missing.join(', ')} does not exist`);
}
