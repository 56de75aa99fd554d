import type { Knex } from 'knex';
import type { Actor } from './actor.js';
import { audited, changedFields } from './audit.js';
import { AppError, conflict, notFound, type FieldError } from '../errors.js';
import * as store from '../store/flows.js';
import { getCampaign } from '../store/campaigns.js';
import type { FlowCreate, FlowPatch } from '../schemas/traffic.js';
import type { PageQuery } from '../validation.js';

type FlowShape = Pick<store.Flow, 'type' | 'filters' | 'schema' | 'landings' | 'offers' | 'url' | 'action' | 'text'>;

/**
 * The rules that join several fields of a flow (SPEC §7.2), checked on what the flow will be
 * after the change: a schema needs its URLs or action; a default flow is the fallback and has
 * no filters.
 */
export function flowProblems(f: FlowShape): FieldError[] {
  const out: FieldError[] = [];
  if (f.schema === 'landings_offers') {
    if (!f.landings.length && !f.offers.length) {
      out.push({ field: 'offers', message: 'a landings_offers flow needs at least one offer or landing' });
    }
    for (const list of ['landings', 'offers'] as const) {
      if (f[list].length && !f[list].some((x) => x.weight > 0)) {
        out.push({ field: list, message: `at least one of the ${list} needs a weight above 0` });
      }
    }
  }
  if (f.schema === 'redirect' && !f.url)
    out.push({ field: 'url', message: 'a redirect flow needs the URL to send visitors to' });
  if (f.schema === 'action') {
    if (!f.action)
      out.push({ field: 'action', message: 'an action flow needs its action: not_found, do_nothing or show_text' });
    else if (f.action === 'show_text' && !f.text)
      out.push({ field: 'text', message: 'the show_text action needs the text to show' });
  }
  if (f.type === 'default' && f.filters.length) {
    out.push({
      field: 'filters',
      message: 'the default flow takes every visitor no other flow took, so it has no filters',
    });
  }
  return out;
}

function check(f: FlowShape): void {
  const problems = flowProblems(f);
  if (problems.length) {
    throw new AppError('validation_failed', problems.map((p) => `${p.field}: ${p.message}`).join('; '), problems);
  }
}

const json = (v: unknown) => JSON.stringify(v);

/** A campaign's flows (SPEC §7.2); at most one non-archived default flow per campaign. */
export class FlowService {
  constructor(
    private readonly db: Knex,
    private readonly onChange: () => void = () => {},
    private readonly clock: () => number = Date.now,
  ) {}

  private async campaign(db: Knex, campaignId: number) {
    const campaign = await getCampaign(db, campaignId);
    if (!campaign) throw notFound('campaign', campaignId);
    return campaign;
  }

  async list(campaignId: number, filters: store.FlowFilters, page: PageQuery) {
    await this.campaign(this.db, campaignId);
    return store.listFlows(this.db, campaignId, filters, page);
  }

  /** A flow of the campaign (404 when it belongs to another). */
  async get(campaignId: number, id: number): Promise<store.Flow> {
    const flow = await store.getFlow(this.db, id);
    if (!flow || flow.campaignId !== campaignId) throw notFound('flow', id);
    return flow;
  }

  async create(campaignId: number, input: FlowCreate, actor: Actor): Promise<store.Flow> {
    const now = this.clock();
    const flow: FlowShape = {
      type: input.type ?? 'regular',
      filters: input.filters ?? [],
      schema: input.schema ?? 'landings_offers',
      landings: input.landings ?? [],
      offers: input.offers ?? [],
      url: input.url ?? null,
      action: input.action ?? null,
      text: input.text ?? null,
    };
    check(flow);
    const id = await audited(this.db, actor, 'flow.created', 'flow', async (trx) => {
      await this.campaign(trx, campaignId);
      if (flow.type === 'default' && !input.archived) await this.onlyDefault(trx, campaignId);
      const newId = await store.insertFlow(trx, {
        campaign_id: campaignId,
        name: input.name,
        type: flow.type,
        position: input.position ?? (await store.nextPosition(trx, campaignId)),
        weight: input.weight ?? 100,
        status: input.status ?? 'active',
        collect_clicks: input.collectClicks ?? true,
        filters: json(flow.filters),
        filters_mode: input.filtersMode ?? 'and',
        schema: flow.schema,
        landings: json(flow.landings),
        offers: json(flow.offers),
        redirect_url: flow.url,
        action: flow.action,
        action_text: flow.text,
        archived_at: input.archived ? now : null,
        created_at: now,
        updated_at: now,
      });
      return { result: newId, objectId: newId, details: { campaignId, ...changedFields(input) } };
    });
    this.onChange();
    return this.get(campaignId, id);
  }

  /**
   * Moves a flow one place up or down among the campaign's flows of its type (the order the
   * `position` rotation tries them): the flows of the type are numbered 1, 2, 3… in the new order.
   */
  async move(campaignId: number, id: number, direction: 'up' | 'down', actor: Actor): Promise<void> {
    const flow = await this.get(campaignId, id);
    const all = (await store.listFlows(this.db, campaignId, {}, { page: 1, perPage: 200 })).data
      .filter((f) => f.type === flow.type && !f.archived)
      .sort((a, b) => a.position - b.position || a.id - b.id);
    const at = all.findIndex((f) => f.id === id);
    const to = direction === 'up' ? at - 1 : at + 1;
    if (at < 0 || to < 0 || to >= all.length) return;
    [all[at], all[to]] = [all[to]!, all[at]!];
    for (const [i, f] of all.entries())
      if (f.position !== i + 1) await this.update(campaignId, f.id, { position: i + 1 }, actor);
  }

  async update(campaignId: number, id: number, patch: FlowPatch, actor: Actor): Promise<store.Flow> {
    const now = this.clock();
    await audited(this.db, actor, 'flow.updated', 'flow', async (trx) => {
      const current = await store.getFlow(trx, id);
      if (!current || current.campaignId !== campaignId) throw notFound('flow', id);
      const merged: FlowShape = {
        type: patch.type ?? current.type,
        filters: patch.filters ?? current.filters,
        schema: patch.schema ?? current.schema,
        landings: patch.landings ?? current.landings,
        offers: patch.offers ?? current.offers,
        url: patch.url !== undefined ? patch.url : current.url,
        action: patch.action !== undefined ? patch.action : current.action,
        text: patch.text !== undefined ? patch.text : current.text,
      };
      check(merged);
      const archived = patch.archived ?? current.archived;
      if (merged.type === 'default' && !archived && (current.type !== 'default' || current.archived)) {
        await this.onlyDefault(trx, campaignId, id);
      }
      await store.updateFlow(trx, id, {
        ...(patch.name !== undefined && { name: patch.name }),
        ...(patch.type !== undefined && { type: patch.type }),
        ...(patch.position !== undefined && { position: patch.position }),
        ...(patch.weight !== undefined && { weight: patch.weight }),
        ...(patch.status !== undefined && { status: patch.status }),
        ...(patch.collectClicks !== undefined && { collect_clicks: patch.collectClicks }),
        ...(patch.filters !== undefined && { filters: json(patch.filters) }),
        ...(patch.filtersMode !== undefined && { filters_mode: patch.filtersMode }),
        ...(patch.schema !== undefined && { schema: patch.schema }),
        ...(patch.landings !== undefined && { landings: json(patch.landings) }),
        ...(patch.offers !== undefined && { offers: json(patch.offers) }),
        ...(patch.url !== undefined && { redirect_url: patch.url }),
        ...(patch.action !== undefined && { action: patch.action }),
        ...(patch.text !== undefined && { action_text: patch.text }),
        ...(patch.archived !== undefined &&
          patch.archived !== current.archived && { archived_at: patch.archived ? now : null }),
        updated_at: now,
      });
      return { result: null, objectId: id, details: { campaignId, ...changedFields(patch) } };
    });
    this.onChange();
    return this.get(campaignId, id);
  }

  /** Refused with 409 once clicks recorded the flow (archive it instead). */
  async remove(campaignId: number, id: number, actor: Actor): Promise<void> {
    await audited(this.db, actor, 'flow.deleted', 'flow', async (trx) => {
      const current = await store.getFlow(trx, id);
      if (!current || current.campaignId !== campaignId) throw notFound('flow', id);
      if (await store.flowHasHistory(trx, id)) {
        throw conflict(
          `The flow “${current.name}” is still referenced by recorded history; archive it instead (PATCH { "archived": true })`,
        );
      }
      await store.deleteFlow(trx, campaignId, id);
      return { result: null, objectId: id, details: { campaignId, name: current.name } };
    });
    this.onChange();
  }

  private async onlyDefault(trx: Knex, campaignId: number, exceptId?: number): Promise<void> {
    const other = await store.otherDefaultFlow(trx, campaignId, exceptId);
    if (other) {
      throw new AppError(
        'validation_failed',
        `type: the campaign already has a default flow (flow ${other.id} “${other.name}”)`,
        [
          {
            field: 'type',
            message: `the campaign already has a default flow (flow ${other.id} “${other.name}”); a campaign has at most one`,
          },
        ],
      );
    }
  }
}
