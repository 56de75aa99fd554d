import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { withConstraints } from './constraints.js';
import { conflict, fieldError, notFound } from '../errors.js';
import * as store from '../store/banners.js';
import { getCampaign } from '../store/campaigns.js';
import type { BannerCreate, BannerPatch } from '../schemas/programme.js';
import type { PageQuery } from '../validation.js';

export class BannerService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  list(filters: store.BannerFilters, page: PageQuery) {
    return store.listBanners(this.db, filters, page);
  }

  async get(id: number): Promise<store.Banner> {
    const banner = await store.getBanner(this.db, id);
    if (!banner) throw notFound('banner', id);
    return banner;
  }

  async create(input: BannerCreate, actor: Actor): Promise<store.Banner> {
    const now = this.clock();
    const type = input.type ?? 'link';
    checkContent(type, input.content ?? null);
    const id = await audited(this.db, actor, 'banner.created', 'banner', async (trx) => {
      if (!(await getCampaign(trx, input.campaignId)))
        throw fieldError('campaignId', `campaign ${input.campaignId} does not exist`);
      const newId = await store.insertBanner(trx, {
        campaign_id: input.campaignId,
        name: input.name,
        type,
        destination_url: input.destinationUrl ?? null,
        content: input.content ?? null,
        archived_at: input.archived ? now : null,
        created_at: now,
        updated_at: now,
      });
      return { result: newId, objectId: newId, details: changedFields(input) };
    });
    this.onChange();
    return this.get(id);
  }

  async update(id: number, patch: BannerPatch, actor: Actor): Promise<store.Banner> {
    const now = this.clock();
    await audited(this.db, actor, 'banner.updated', 'banner', async (trx) => {
      const current = await store.getBanner(trx, id);
      if (!current) throw notFound('banner', id);
      checkContent(patch.type ?? current.type, patch.content !== undefined ? patch.content : current.content);
      if (patch.campaignId !== undefined && !(await getCampaign(trx, patch.campaignId))) {
        throw fieldError('campaignId', `campaign ${patch.campaignId} does not exist`);
      }
      await store.updateBanner(trx, id, {
        ...(patch.campaignId !== undefined && { campaign_id: patch.campaignId }),
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.type !== undefined && { type: patch.type }),
        ...(patch.destinationUrl !== undefined && { destination_url: patch.destinationUrl }),
        ...(patch.content !== undefined && { content: patch.content }),
        ...(patch.archived !== undefined && { archived_at: patch.archived ? now : null }),
        updated_at: now,
      });
      return { result: null, objectId: id, details: changedFields(patch) };
    });
    this.onChange();
    return this.get(id);
  }

  async remove(id: number, actor: Actor): Promise<void> {
    await withConstraints(
      this.db,
      'banner',
      () => conflict('banner is referenced'),
      () =>
        audited(this.db, actor, 'banner.deleted', 'banner', async (trx) => {
          const current = await store.getBanner(trx, id);
          if (!current) throw notFound('banner', id);
          await store.deleteBanner(trx, id);
          return { result: null, objectId: id, details: { name: current.name } };
        }),
    );
    this.onChange();
  }
}

/** An image banner's content is its image URL; an HTML banner needs its HTML. */
function checkContent(type: store.Banner['type'], content: string | null): void {
  if (type === 'image' && (!content || !/^https?:\/\//i.test(content) || !URL.canParse(content))) {
    throw fieldError('content', 'an image banner needs the http(s) URL of its image');
  }
  if (type === 'html' && !content) throw fieldError('content', 'an HTML banner needs its HTML');
}
