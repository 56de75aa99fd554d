import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { conflict, notFound } from '../errors.js';
import * as store from '../store/sources.js';
import { campaignsUsing } from '../store/campaigns.js';
import type { SourceCreate, SourcePatch } from '../schemas/traffic.js';
import type { PageQuery } from '../validation.js';
import type { OutgoingHttp } from './outgoing-http.js';

/** Traffic sources: parameter templates and postback URLs (SPEC §7.4). */
export class SourceService {
  constructor(
    private readonly db: Knex,
    private readonly outgoing: OutgoingHttp,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.SourceFilters, page: PageQuery) {
    return store.listSources(this.db, filters, page);
  }

  all() {
    return store.allSources(this.db);
  }

  async get(id: number): Promise<store.Source> {
    const source = await store.getSource(this.db, id);
    if (!source) throw notFound('source', id);
    return source;
  }

  async create(input: SourceCreate, actor: Actor): Promise<store.Source> {
    await this.outgoing.check('postbackUrl', input.postbackUrl);
    const now = this.clock();
    const id = await audited(this.db, actor, 'source.created', 'source', async (trx) => {
      const newId = await store.insertSource(trx, {
        name: input.name,
        params: JSON.stringify(input.params ?? {}),
        postback_url: input.postbackUrl ?? null,
        archived_at: input.archived ? now : null,
        created_at: now,
        updated_at: now,
      });
      return { result: newId, objectId: newId, details: changedFields(input) };
    });
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: SourcePatch, actor: Actor): Promise<store.Source> {
    await this.outgoing.check('postbackUrl', patch.postbackUrl);
    const now = this.clock();
    await audited(this.db, actor, 'source.updated', 'source', async (trx) => {
      const current = await store.getSource(trx, id);
      if (!current) throw notFound('source', id);
      await store.updateSource(trx, id, {
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.params !== undefined && { params: JSON.stringify(patch.params) }),
        ...(patch.postbackUrl !== undefined && { postback_url: patch.postbackUrl }),
        // Archiving again keeps the first archive time.
        ...(patch.archived !== undefined &&
          patch.archived !== current.archived && { archived_at: patch.archived ? now : null }),
        updated_at: now,
      });
      return { result: null, objectId: id, details: changedFields(patch) };
    });
    this.onChange();
    return this.get(id);
  }

  /** Refused with 409 while a campaign uses the source, or once clicks recorded it (archive it instead). */
  async remove(id: number, actor: Actor): Promise<void> {
    await withConstraints(
      this.db,
      'source',
      () => conflict('source is referenced'),
      () =>
        audited(this.db, actor, 'source.deleted', 'source', async (trx) => {
          const current = await store.getSource(trx, id);
          if (!current) throw notFound('source', id);
          const users = await campaignsUsing(trx, 'source_id', id);
          if (users.length) {
            throw conflict(
              `The source “${current.name}” is used by ${users.map((c) => `campaign ${c.id} “${c.name}”`).join(', ')}; choose another source on those campaigns first`,
              { campaignIds: users.map((c) => c.id) },
            );
          }
          if (await store.sourceHasHistory(trx, id)) {
            throw conflict(
              `The source “${current.name}” is still referenced by recorded history; archive it instead (PATCH { "archived": true })`,
            );
          }
          await store.deleteSource(trx, id);
          return { result: null, objectId: id, details: { name: current.name } };
        }),
    );
    this.onChange();
  }
}
