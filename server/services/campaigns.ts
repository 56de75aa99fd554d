import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { randomToken } from './random.js';
import { AppError, conflict, fieldError, notFound } from '../errors.js';
import * as store from '../store/campaigns.js';
import type { CampaignCreate, CampaignPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';

/** Campaigns, with the invariant that exactly one campaign is the default (SPEC §3). */
export class CampaignService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.CampaignFilters, page: PageQuery) {
    return store.listCampaigns(this.db, filters, page);
  }

  all() {
    return store.allCampaigns(this.db);
  }

  async get(id: number): Promise<store.Campaign> {
    const campaign = await store.getCampaign(this.db, id);
    if (!campaign) throw notFound('campaign', id);
    return campaign;
  }

  /** Creates the default campaign on a fresh database (and repairs one that lost it). */
  async ensureDefault(actor: Actor): Promise<store.Campaign> {
    const existing = await store.getDefaultCampaign(this.db);
    if (existing) return existing;
    const oldest = (await this.db('campaigns').whereNull('archived_at').orderBy('id').first('id')) as { id: number } | undefined;
    if (oldest) return this.update(oldest.id, { isDefault: true }, actor);
    return this.create({ name: 'Default campaign', isDefault: true }, actor);
  }

  async create(input: CampaignCreate, actor: Actor): Promise<store.Campaign> {
    const now = this.clock();
    if (input.isDefault && input.archived) throw fieldError('archived', 'the default campaign cannot be archived');
    const id = await withConstraints(this.db, 'campaign', () => conflict('campaign already exists'), () =>
      audited(this.db, actor, 'campaign.created', 'campaign', async (trx) => {
        const newId = await store.insertCampaign(
          trx,
          {
            name: input.name,
            type: input.type ?? 'public',
            default_key: null,
            status: input.status ?? 'active',
            cookie_days: input.cookieDays ?? null,
            overwrite_cookie: input.overwriteCookie ?? null,
            approval: input.approval ?? null,
            secret_key: randomToken(24),
            destination_url: input.destinationUrl ?? null,
            archived_at: input.archived ? now : null,
            created_at: now,
            updated_at: now,
          },
          input.productIds ?? [],
        );
        if (input.isDefault || !(await store.getDefaultCampaign(trx))) await store.setDefaultCampaign(trx, newId);
        return { result: newId, objectId: newId, details: changedFields(input) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: CampaignPatch, actor: Actor): Promise<store.Campaign> {
    const now = this.clock();
    await audited(this.db, actor, 'campaign.updated', 'campaign', async (trx) => {
      const current = await store.getCampaign(trx, id);
      if (!current) throw notFound('campaign', id);
      if (patch.isDefault === false && current.isDefault) {
        throw fieldError('isDefault', 'exactly one campaign is the default; make another campaign the default instead');
      }
      if (patch.archived && (current.isDefault || patch.isDefault)) {
        throw fieldError('archived', 'the default campaign cannot be archived; make another campaign the default first');
      }
      await store.updateCampaign(
        trx,
        id,
        {
          ...(patch.name !== undefined && { name: patch.name }),
          ...(patch.type !== undefined && { type: patch.type }),
          ...(patch.status !== undefined && { status: patch.status }),
          ...(patch.cookieDays !== undefined && { cookie_days: patch.cookieDays }),
          ...(patch.overwriteCookie !== undefined && { overwrite_cookie: patch.overwriteCookie }),
          ...(patch.approval !== undefined && { approval: patch.approval }),
          ...(patch.destinationUrl !== undefined && { destination_url: patch.destinationUrl }),
          ...(patch.archived !== undefined && { archived_at: patch.archived ? now : null }),
          updated_at: now,
        },
        patch.productIds,
      );
      if (patch.isDefault && !current.isDefault) await store.setDefaultCampaign(trx, id);
      return { result: null, objectId: id, details: changedFields(patch) };
    });
    this.onChange();
    return this.get(id);
  }

  async regenerateSecretKey(id: number, actor: Actor): Promise<store.Campaign> {
    await audited(this.db, actor, 'campaign.secretKeyRegenerated', 'campaign', async (trx) => {
      if (!(await store.getCampaign(trx, id))) throw notFound('campaign', id);
      await store.updateCampaign(trx, id, { secret_key: randomToken(24), updated_at: this.clock() });
      return { result: null, objectId: id };
    });
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await withConstraints(this.db, 'campaign', () => conflict('campaign is referenced'), () =>
      audited(this.db, actor, 'campaign.deleted', 'campaign', async (trx) => {
        const current = await store.getCampaign(trx, id);
        if (!current) throw notFound('campaign', id);
        if (current.isDefault) {
          throw new AppError('conflict', 'The default campaign cannot be deleted; make another campaign the default first');
        }
        await store.deleteCampaign(trx, id);
        return { result: null, objectId: id, details: { name: current.name } };
      }),
    );
    this.onChange();
  }
}
