import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { notFound } from '../errors.js';
import * as store from '../store/groups.js';
import type { GroupCreate, GroupPatch } from '../schemas/traffic.js';
import type { PageQuery } from '../validation.js';

/** Campaign groups. Deleting one leaves its campaigns without a group (the column is SET NULL). */
export class GroupService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.GroupFilters, page: PageQuery) {
    return store.listGroups(this.db, filters, page);
  }

  all() {
    return store.allGroups(this.db);
  }

  campaignCounts() {
    return store.campaignCountsByGroup(this.db);
  }

  async get(id: number): Promise<store.Group> {
    const group = await store.getGroup(this.db, id);
    if (!group) throw notFound('group', id);
    return group;
  }

  async create(input: GroupCreate, actor: Actor): Promise<store.Group> {
    const now = this.clock();
    const id = await audited(this.db, actor, 'group.created', 'group', async (trx) => {
      const newId = await store.insertGroup(trx, { name: input.name, created_at: now, updated_at: now });
      return { result: newId, objectId: newId, details: changedFields(input) };
    });
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: GroupPatch, actor: Actor): Promise<store.Group> {
    const now = this.clock();
    await audited(this.db, actor, 'group.updated', 'group', async (trx) => {
      if (!(await store.getGroup(trx, id))) throw notFound('group', id);
      await store.updateGroup(trx, id, { ...(patch.name !== undefined && { name: patch.name }), updated_at: now });
      return { result: null, objectId: id, details: changedFields(patch) };
    });
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await audited(this.db, actor, 'group.deleted', 'group', async (trx) => {
      const current = await store.getGroup(trx, id);
      if (!current) throw notFound('group', id);
      await store.deleteGroup(trx, id);
      return { result: null, objectId: id, details: { name: current.name } };
    });
    this.onChange();
  }
}
