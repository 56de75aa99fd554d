import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { randomToken } from './random.js';
import { AppError, conflict, fieldError, notFound } from '../errors.js';
import * as store from '../store/campaigns.js';
import { copyCampaignPayouts } from '../store/payouts.js';
import { rowExists } from '../store/rows.js';
import type { CampaignCreate, CampaignPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';
import { toUnits, ZERO, type Units } from '../domain/money.js';

/** A unique-key refusal in people's words: the alias index names the field. */
const uniqueCampaign = (message: string) =>
  /alias/i.test(message)
    ? fieldError('alias', 'another campaign on this domain already uses this alias')
    : conflict('campaign already exists');

/**
 * The traffic fields (SPEC §7.1) that need the database or each other: the domain, group and
 * source must exist, the alias is unique per domain, a REVSHARE cost is a percent ≤ 100.
 */
async function checkTraffic(
  trx: Knex,
  merged: {
    domainId: number | null;
    alias: string | null;
    groupId: number | null;
    sourceId: number | null;
    costModel: string;
    costValue: Units;
  },
  changed: Partial<Record<'domainId' | 'alias' | 'groupId' | 'sourceId' | 'costModel' | 'costValue', unknown>>,
  exceptId?: number,
): Promise<void> {
  const exists = (table: string, id: number) => rowExists(trx, table, id);
  if (changed.domainId !== undefined && merged.domainId !== null && !(await exists('domains', merged.domainId))) {
    throw fieldError('domainId', `domain ${merged.domainId} does not exist`);
  }
  if (changed.groupId !== undefined && merged.groupId !== null && !(await exists('traffic_groups', merged.groupId))) {
    throw fieldError('groupId', `group ${merged.groupId} does not exist`);
  }
  if (
    changed.sourceId !== undefined &&
    merged.sourceId !== null &&
    !(await exists('traffic_sources', merged.sourceId))
  ) {
    throw fieldError('sourceId', `source ${merged.sourceId} does not exist`);
  }
  if ((changed.alias !== undefined || changed.domainId !== undefined) && merged.alias !== null) {
    const other = await store.findCampaignByAlias(trx, merged.domainId, merged.alias, exceptId);
    if (other)
      throw fieldError(
        'alias',
        `campaign ${other.id} “${other.name}” already uses the alias “${other.alias}” on this domain`,
      );
  }
  if (merged.costModel === 'REVSHARE' && merged.costValue > toUnits(100)) {
    throw fieldError('costValue', 'a REVSHARE cost is a percentage of the revenue: at most 100');
  }
}

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
    const oldest = await store.oldestLiveCampaignId(this.db);
    if (oldest !== null) return this.update(oldest, { isDefault: true }, actor);
    return this.create({ name: 'Default campaign', isDefault: true }, actor);
  }

  async create(input: CampaignCreate, actor: Actor): Promise<store.Campaign> {
    const now = this.clock();
    if (input.isDefault && input.archived) throw fieldError('archived', 'the default campaign cannot be archived');
    const id = await withConstraints(this.db, 'campaign', uniqueCampaign, () =>
      audited(this.db, actor, 'campaign.created', 'campaign', async (trx) => {
        await checkTraffic(
          trx,
          {
            domainId: input.domainId ?? null,
            alias: input.alias ?? null,
            groupId: input.groupId ?? null,
            sourceId: input.sourceId ?? null,
            costModel: input.costModel ?? 'CPC',
            costValue: input.costValue ?? ZERO,
          },
          input,
        );
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
            domain_id: input.domainId ?? null,
            alias: input.alias ?? null,
            group_id: input.groupId ?? null,
            source_id: input.sourceId ?? null,
            flow_rotation: input.flowRotation ?? 'position',
            cost_model: input.costModel ?? 'CPC',
            cost_value: input.costValue ?? 0,
            cost_auto: input.costAuto ?? true,
            cost_currency: input.costCurrency ?? null,
            traffic_loss: input.trafficLoss ?? 0,
            bind_visitors: input.bindVisitors ?? 'none',
            uniqueness: input.uniqueness ?? 'ip_ua',
            uniqueness_ttl_hours: input.uniquenessTtlHours ?? 24,
            bypass_cache: input.bypassCache ?? false,
            api_token: randomToken(24),
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

  /**
   * A copy of a campaign with its flows and payouts (SPEC §15): named "<name> (copy)", without
   * an alias (campaign URLs are unique) and never the default, with keys of its own.
   */
  async clone(id: number, actor: Actor): Promise<store.Campaign> {
    const now = this.clock();
    const newId = await audited(this.db, actor, 'campaign.created', 'campaign', async (trx) => {
      const copyId = await store.copyCampaignWithFlows(
        trx,
        id,
        (row) => ({
          name: `${String(row.name).slice(0, 184)} (copy)`,
          alias: null,
          default_key: null,
          secret_key: randomToken(24),
          api_token: row.api_token === null ? null : randomToken(24),
          created_at: now,
          updated_at: now,
        }),
        now,
      );
      if (copyId === null) throw notFound('campaign', id);
      await copyCampaignPayouts(trx, id, copyId, now);
      return { result: copyId, objectId: copyId, details: { clonedFrom: id } };
    });
    this.onChange();
    return this.get(newId);
  }

  async update(id: number, patch: CampaignPatch, actor: Actor): Promise<store.Campaign> {
    const now = this.clock();
    await withConstraints(this.db, 'campaign', uniqueCampaign, () =>
      audited(this.db, actor, 'campaign.updated', 'campaign', async (trx) => {
        const current = await store.getCampaign(trx, id);
        if (!current) throw notFound('campaign', id);
        await checkTraffic(
          trx,
          {
            domainId: patch.domainId !== undefined ? patch.domainId : current.domainId,
            alias: patch.alias !== undefined ? patch.alias : current.alias,
            groupId: patch.groupId !== undefined ? patch.groupId : current.groupId,
            sourceId: patch.sourceId !== undefined ? patch.sourceId : current.sourceId,
            costModel: patch.costModel ?? current.costModel,
            costValue: patch.costValue ?? current.costValue,
          },
          patch,
          id,
        );
        if (patch.isDefault === false && current.isDefault) {
          throw fieldError(
            'isDefault',
            'exactly one campaign is the default; make another campaign the default instead',
          );
        }
        if (patch.archived && (current.isDefault || patch.isDefault)) {
          throw fieldError(
            'archived',
            'the default campaign cannot be archived; make another campaign the default first',
          );
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
            ...(patch.domainId !== undefined && { domain_id: patch.domainId }),
            ...(patch.alias !== undefined && { alias: patch.alias }),
            ...(patch.groupId !== undefined && { group_id: patch.groupId }),
            ...(patch.sourceId !== undefined && { source_id: patch.sourceId }),
            ...(patch.flowRotation !== undefined && { flow_rotation: patch.flowRotation }),
            ...(patch.costModel !== undefined && { cost_model: patch.costModel }),
            ...(patch.costValue !== undefined && { cost_value: patch.costValue }),
            ...(patch.costAuto !== undefined && { cost_auto: patch.costAuto }),
            ...(patch.costCurrency !== undefined && { cost_currency: patch.costCurrency }),
            ...(patch.trafficLoss !== undefined && { traffic_loss: patch.trafficLoss }),
            ...(patch.bindVisitors !== undefined && { bind_visitors: patch.bindVisitors }),
            ...(patch.uniqueness !== undefined && { uniqueness: patch.uniqueness }),
            ...(patch.uniquenessTtlHours !== undefined && { uniqueness_ttl_hours: patch.uniquenessTtlHours }),
            ...(patch.bypassCache !== undefined && { bypass_cache: patch.bypassCache }),
            updated_at: now,
          },
          patch.productIds,
        );
        if (patch.isDefault && !current.isDefault) await store.setDefaultCampaign(trx, id);
        return { result: null, objectId: id, details: changedFields(patch) };
      }),
    );
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

  /** A new Click API token (SPEC §7.7); the old one stops working at once. */
  async regenerateApiToken(id: number, actor: Actor): Promise<store.Campaign> {
    await audited(this.db, actor, 'campaign.apiTokenRegenerated', 'campaign', async (trx) => {
      if (!(await store.getCampaign(trx, id))) throw notFound('campaign', id);
      await store.updateCampaign(trx, id, { api_token: randomToken(24), updated_at: this.clock() });
      return { result: null, objectId: id };
    });
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await withConstraints(
      this.db,
      'campaign',
      () => conflict('campaign is referenced'),
      () =>
        audited(this.db, actor, 'campaign.deleted', 'campaign', async (trx) => {
          const current = await store.getCampaign(trx, id);
          if (!current) throw notFound('campaign', id);
          if (current.isDefault) {
            throw new AppError(
              'conflict',
              'The default campaign cannot be deleted; make another campaign the default first',
            );
          }
          await store.deleteCampaign(trx, id);
          return { result: null, objectId: id, details: { name: current.name } };
        }),
    );
    this.onChange();
  }
}
