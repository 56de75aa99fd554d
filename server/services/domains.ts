import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { conflict, fieldError, notFound } from '../errors.js';
import * as store from '../store/domains.js';
import { campaignsUsing, getCampaign } from '../store/campaigns.js';
import type { DomainCreate, DomainPatch } from '../schemas/traffic.js';
import type { PageQuery } from '../validation.js';

const hostTaken = () => fieldError('host', 'another domain already has this host');

/** Domains campaign URLs are served on, each with an optional parked campaign (SPEC §7.1). */
export class DomainService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.DomainFilters, page: PageQuery) {
    return store.listDomains(this.db, filters, page);
  }

  all() {
    return store.allDomains(this.db);
  }

  async get(id: number): Promise<store.Domain> {
    const domain = await store.getDomain(this.db, id);
    if (!domain) throw notFound('domain', id);
    return domain;
  }

  async create(input: DomainCreate, actor: Actor): Promise<store.Domain> {
    const now = this.clock();
    const id = await withConstraints(this.db, 'domain', hostTaken, () =>
      audited(this.db, actor, 'domain.created', 'domain', async (trx) => {
        if (await store.getDomainByHost(trx, input.host)) throw hostTaken();
        await checkParked(trx, input.parkedCampaignId);
        const newId = await store.insertDomain(trx, {
          host: input.host,
          parked_campaign_id: input.parkedCampaignId ?? null,
          created_at: now,
          updated_at: now,
        });
        return { result: newId, objectId: newId, details: changedFields(input) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: DomainPatch, actor: Actor): Promise<store.Domain> {
    const now = this.clock();
    await withConstraints(this.db, 'domain', hostTaken, () =>
      audited(this.db, actor, 'domain.updated', 'domain', async (trx) => {
        if (!(await store.getDomain(trx, id))) throw notFound('domain', id);
        if (patch.host !== undefined) {
          const other = await store.getDomainByHost(trx, patch.host);
          if (other && other.id !== id) throw hostTaken();
        }
        await checkParked(trx, patch.parkedCampaignId);
        await store.updateDomain(trx, id, {
          ...(patch.host !== undefined && { host: patch.host }),
          ...(patch.parkedCampaignId !== undefined && { parked_campaign_id: patch.parkedCampaignId }),
          updated_at: now,
        });
        return { result: null, objectId: id, details: changedFields(patch) };
      }),
    );
    this.onChange();
    return this.get(id);
  }

  /** Refused with 409 while a campaign's URL is on the domain. */
  async remove(id: number, actor: Actor): Promise<void> {
    await withConstraints(
      this.db,
      'domain',
      () => conflict('domain is referenced'),
      () =>
        audited(this.db, actor, 'domain.deleted', 'domain', async (trx) => {
          const current = await store.getDomain(trx, id);
          if (!current) throw notFound('domain', id);
          const users = await campaignsUsing(trx, 'domain_id', id);
          if (users.length) {
            throw conflict(
              `The domain ${current.host} is used by ${users.map((c) => `campaign ${c.id} “${c.name}”`).join(', ')}; move those campaigns to another domain first`,
              { campaignIds: users.map((c) => c.id) },
            );
          }
          await store.deleteDomain(trx, id);
          return { result: null, objectId: id, details: { host: current.host } };
        }),
    );
    this.onChange();
  }
}

async function checkParked(trx: Knex, campaignId: number | null | undefined): Promise<void> {
  if (campaignId === undefined || campaignId === null) return;
  const campaign = await getCampaign(trx, campaignId);
  if (!campaign) throw fieldError('parkedCampaignId', `campaign ${campaignId} does not exist`);
  if (campaign.archived) throw fieldError('parkedCampaignId', `campaign ${campaignId} is archived`);
}
