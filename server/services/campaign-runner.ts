import type { Knex } from 'knex';
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Logger } from 'pino';
import type { ConfigSnapshot, DomainFacts } from './config-cache.js';
import { flowClickTimes, type ClickStatus } from '../store/clicks.js';
import type { Campaign } from '../store/campaigns.js';
import { bindingsOf } from '../store/visitor-bindings.js';
import { selectFlow, pickLandingOffer, type FlowDef, type VisitorFacts } from '../domain/flows.js';
import { matchCampaignUrlClick } from '../domain/matching.js';
import type { ClickPipeline, ScreenedClick } from './click-pipeline.js';
import { FlowClickCounter } from './flow-click-counter.js';
import type { SharedState } from './shared-state.js';
import { deviceKey, isUniqueVisit, scopes, type UniquenessMode } from '../domain/uniqueness.js';
import { clickCost, type CostModel } from '../domain/costs.js';
import { clickMacros, fillMacros } from '../domain/macros.js';
import { multiplyByRateWithin, toUnits, MoneyRangeError, ZERO, type Units } from '../domain/money.js';
import { rateToBase } from '../domain/currency.js';
import {
  CODE_LENGTH,
  KEY_LENGTH,
  MAX_AMOUNT,
  MAX_AMOUNT_UNITS,
  TEXT_LENGTH,
  URL_LENGTH,
  clip,
  cut,
} from '../domain/limits.js';

const AMOUNT_LIMIT = MAX_AMOUNT.toLocaleString('en-US');
import { dayIn } from '../domain/time.js';
import { countryOf } from './geo.js';
import { lastSeenMarks } from '../store/uniqueness-marks.js';
import { agentFacts, languagesOf } from './visitor-facts.js';
import { newClickId, newVisitorId, validVisitorId } from './visitors.js';

/** The signed cookie that identifies a device for uniqueness and bind visitors (SPEC §7.3). */
export const UNIQUENESS_COOKIE = 'affix_uniq';
const UNIQUENESS_COOKIE_DAYS = 365;

/**
 * Bypass cache (SPEC §7.8): the landing URL of a campaign with `bypassCache` on carries the
 * click's subid and its issue time (the tracker's clock, unix ms). The snippet on the landing page
 * reports both to `GET /t/fresh-click` (server/http/bypass-cache.ts), which answers a fresh click
 * when the subid is older than BYPASS_MAX_AGE_MS.
 */
export const BYPASS_SUBID_PARAM = '_subid';
export const BYPASS_TS_PARAM = '_ts';
export const BYPASS_MAX_AGE_MS = 3 * 60_000;

/** Appends `name=value` pairs to a URL's query, before any `#fragment`. */
export function appendQuery(url: string, pairs: Array<[string, string]>): string {
  const hash = url.indexOf('#');
  const [head, tail] = hash < 0 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
  const query = pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  return `${head}${head.includes('?') ? (/[?&]$/.test(head) ? '' : '&') : '?'}${query}${tail}`;
}

export interface RunRequest {
  ip: string;
  userAgent: string;
  acceptLanguage: string;
  referrer: string | null;
  /** First value of each query parameter of the campaign URL. */
  params: Record<string, string>;
  /** The `affix_uniq` cookie (a JWT) or the Click API's `uniqueness_cookie`. */
  uniquenessCookie: string | null;
}

export interface RunResult {
  /** 302 to `location`; 200 with `body` (show_text / do_nothing); 404 when nothing applies. */
  status: 302 | 200 | 404;
  location: string | null;
  body: string | null;
  type: 'redirect' | 'landing' | 'offer' | 'show_text' | 'do_nothing' | 'not_found';
  subid: string | null;
  campaignId: number | null;
  flowId: number | null;
  uniquenessCookie: string | null;
  log: string[];
  /** When the subid was issued (the runner's clock, unix ms); set when a flow was chosen. */
  issuedAt?: number;
  /** The click's cost in money units of the base currency; set when a flow was chosen. */
  cost?: Units;
  /** The visitor's uniqueness in the campaign, the chosen flow and globally (set when a flow was chosen). */
  unique?: { campaign: boolean; flow: boolean; global: boolean };
  /** The user agent is a bot's. */
  isBot?: boolean;
  /** What the click rules decided (null on a test run or when no click was to be stored). */
  click?: { status: ClickStatus | 'dropped'; declineReason: string | null } | null;
}

export interface RunOptions {
  /** false: a dry run (the admin's "Test" tab) — no click, counters, marks, bindings or device cookie. Default true. */
  record?: boolean;
}

interface SourceParams {
  params: Record<string, string>;
}

/**
 * Runs a traffic campaign for one visitor (SPEC §7): uniqueness, bind visitors, flow selection,
 * landing and offer, macros, cost; the click is stored through the group-commit writer before
 * the answer is given.
 */
/**
 * The most clicks a day a flow's `clickLimit` lets in (an `is not` limit counts without a
 * ceiling: its flow takes clicks once the limit is passed).
 */
function clickLimitOf(flow: FlowDef): number {
  const f = flow.filters.find((x) => x.name === 'clickLimit');
  if (!f || f.mode !== 'is') return Number.MAX_SAFE_INTEGER;
  const limit = Number(f.values.map((v) => v.trim()).find(Boolean) ?? 0);
  return Number.isFinite(limit) ? limit : 0;
}

const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

/**
 * The HS256 token `jwt.sign({ v }, key, { algorithm: 'HS256', issuer: 'affix-uniq', expiresIn:
 * '365d' })` gives, byte for byte (same header, claims in the same order: v, iat, exp, iss),
 * without jsonwebtoken's option checks, which cost more than the HMAC on every campaign-URL visit.
 */
export function signHs256Token(visitorId: string, key: KeyObject, nowSeconds: number): string {
  const claims = {
    v: visitorId,
    iat: nowSeconds,
    exp: nowSeconds + UNIQUENESS_COOKIE_DAYS * 86_400,
    iss: 'affix-uniq',
  };
  const signed = `${JWT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signed}.${createHmac('sha256', key).update(signed).digest('base64url')}`;
}

export class CampaignRunner {
  /** Clicks per flow and day, for `clickLimit`. */
  private readonly flowClicks = new FlowClickCounter();
  /** A KeyObject once: jsonwebtoken otherwise tries (and fails) to parse the secret as a private key on every call. */
  private readonly key: KeyObject;

  constructor(
    private readonly db: Knex,
    private readonly pipeline: ClickPipeline,
    secret: string,
    private readonly log: Logger,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
    /** Where `clickLimit` counts live when several processes share the database (SPEC §16). */
    private readonly shared: SharedState | null = null,
  ) {
    this.key = createSecretKey(Buffer.from(secret));
  }

  /** The campaign for a request's Host and path: active → itself; paused → the domain's parked campaign. */
  resolve(snap: ConfigSnapshot, host: string, alias: string): { campaign: Campaign | null; log: string[] } {
    // A domain may be stored with its port ("track.example.com:8443"): the Host with its port
    // first, then without it (a domain stored without a port answers on any port).
    const fullHost = host.toLowerCase();
    const domain = snap.domainsByHost.get(fullHost) ?? snap.domainsByHost.get(fullHost.replace(/:\d+$/, '')) ?? null;
    const campaign = snap.campaignByAlias(domain?.id ?? null, alias);
    if (!campaign || campaign.archived) {
      return { campaign: null, log: [`no campaign "${alias}" on ${domain ? `domain ${domain.host}` : 'this host'}`] };
    }
    return this.runnable(snap, campaign, domain);
  }

  /** The campaign of a Click API token, resolved as its campaign URL would be. */
  resolveToken(
    snap: ConfigSnapshot,
    token: string,
  ): { named: Campaign; campaign: Campaign | null; log: string[] } | null {
    const named = token ? snap.campaignByToken(token) : undefined;
    if (!named || named.archived) return null;
    const domain = named.domainId ? (snap.domains.get(named.domainId) ?? null) : null;
    return { named, ...this.runnable(snap, named, domain) };
  }

  /** SPEC §7.1: a paused campaign runs the campaign parked on its domain; with none parked, nothing runs. */
  private runnable(
    snap: ConfigSnapshot,
    campaign: Campaign,
    domain: DomainFacts | null,
  ): { campaign: Campaign | null; log: string[] } {
    const log: string[] = [];
    if (campaign.status === 'active') return { campaign, log };
    log.push(`campaign ${campaign.id} "${campaign.name}" is paused`);
    const parked = domain?.parkedCampaignId ? snap.campaigns.get(domain.parkedCampaignId) : undefined;
    if (parked && parked.status === 'active' && !parked.archived) {
      log.push(`running campaign ${parked.id} "${parked.name}" parked on ${domain?.host}`);
      return { campaign: parked, log };
    }
    log.push(`no active campaign is parked on ${domain ? `domain ${domain.host}` : 'this host'}: 404`);
    return { campaign: null, log };
  }

  // Longer than the other steps on purpose: from reading the click-limit counts (selectFlow) to
  // counting this click nothing may await, so the flow choice, the answer and the start of the
  // click's recording stay in one method turn; most of its lines pass values to the steps.
  async run(
    campaign: Campaign,
    req: RunRequest,
    snap: ConfigSnapshot,
    initialLog: string[] = [],
    options: RunOptions = {},
  ): Promise<RunResult> {
    const record = options.record !== false;
    const log = [...initialLog];
    const now = this.clock();
    const flows = snap.flows.get(campaign.id) ?? [];
    const settings = snap.settings;
    const agent = agentFacts(req.userAgent);
    const country = countryOf(req.ip);

    // The device: a signed cookie (not in GDPR mode), else IP + user agent.
    const cookieVisitor = settings.gdprMode ? null : this.readUniquenessCookie(req.uniquenessCookie);
    const visitorId = cookieVisitor ?? newVisitorId(now);

    // The click rules of every entry point: affiliate, fraud check. A declined or
    // dropped click is still routed like any other (README, "The same click rules everywhere");
    // only what is stored differs.
    const { trace, screened } = await this.screenClick(campaign, req, snap, {
      record,
      now,
      country,
      visitorId,
      newVisitor: cookieVisitor === null,
      log,
    });
    const dropped = Boolean(screened?.dropped);

    const { unique, scopeNames, markDevices, ipUaDevice } = await this.visitUniqueness(
      campaign,
      req,
      settings.gdprMode,
      { cookieVisitor, visitorId, flows, now },
      log,
    );

    // Bind visitors: the flow (and landing, offer) this device got before.
    // Looked up by the cookie first, then the IP + UA device record; stored under both (the cookie
    // this answer sets included), so the first visit's binding is found by the returning cookie.
    const bindLookup = cookieVisitor ? [cookieVisitor, ipUaDevice] : [ipUaDevice];
    const bindKeys = settings.gdprMode ? [ipUaDevice] : [...new Set([visitorId, ipUaDevice])];
    const binding =
      campaign.bindVisitors && campaign.bindVisitors !== 'none' ? await this.binding(campaign.id, bindLookup) : null;

    const day = dayIn(now, settings.timezone);
    // Filled with the shared counts (SPEC §16) when they are used.
    const counts: { shared: Map<number, number> | null } = { shared: null };
    const facts: VisitorFacts = {
      ip: req.ip,
      country,
      device: agent.device,
      os: agent.os,
      browser: agent.browser,
      languages: languagesOf(req.acceptLanguage),
      isBot: agent.isBot,
      unique,
      params: req.params,
      now,
      timeZone: settings.timezone,
      flowClicksToday: (flowId) => counts.shared?.get(flowId) ?? this.flowClicks.count(flowId, day),
    };
    // clickLimit counts: seeded once per flow and day; no await once they are (the hot path).
    const limited = flows.filter((f) => f.filters.some((x) => x.name === 'clickLimit')).map((f) => f.id);
    const storedToday = async (flowId: number) => {
      // From the start of the report day: at most 24 h back, refined by the day label.
      const times = await flowClickTimes(this.db, flowId, now - 86_400_000);
      return times.filter((at) => dayIn(at, settings.timezone) === day).length;
    };
    const rotation = campaign.flowRotation === 'weight' ? 'weight' : 'position';
    let choice: ReturnType<typeof selectFlow>;
    if (this.shared && limited.length) {
      // Shared counts (SPEC §16): read, choose, then take the place with one compare-and-set;
      // when another process took the last place meanwhile, the flow counts as full and the
      // choice is made again.
      counts.shared = new Map();
      choice = await this.chooseSharedFlow(this.shared, counts.shared, {
        flows,
        rotation,
        facts,
        boundFlowId: binding?.flowId ?? null,
        limited,
        day,
        record,
        storedToday,
      });
    } else {
      const seeding = limited.length ? this.flowClicks.ready(limited, day, storedToday) : null;
      if (seeding) await seeding;
      // Nothing may come between reading the counts (selectFlow) and counting this click (below):
      // no await, so concurrent requests cannot all take the last place of a limited flow.
      choice = selectFlow(flows, rotation, facts, this.random, binding?.flowId ?? null);
    }
    log.push(...choice.log);
    const flow = choice.flow;
    if (!flow) {
      return {
        status: 404,
        location: null,
        body: null,
        type: 'not_found',
        subid: null,
        campaignId: campaign.id,
        flowId: null,
        uniquenessCookie: null,
        log,
        click: null,
      };
    }
    const keep =
      choice.bound && binding
        ? {
            landingIndex:
              campaign.bindVisitors === 'flows_landings' || campaign.bindVisitors === 'flows_landings_offers'
                ? binding.landingIndex
                : null,
            offerIndex: campaign.bindVisitors === 'flows_landings_offers' ? binding.offerIndex : null,
          }
        : undefined;
    const { landingIndex, offerIndex } = pickLandingOffer(flow, this.random, keep);

    // Source parameters → sub ids, external id, cost.
    const source = campaign.sourceId ? snap.sources.get(campaign.sourceId) : undefined;
    const subIds = this.subIds(req.params, source);
    const externalId = req.params[source?.params.external_id ?? 'external_id'] ?? null;
    const cost = this.cost(campaign, snap, req.params, source, unique.campaign, log);

    const subid = screened?.clickId ?? newClickId(now);
    const macroValues = this.macros(campaign, req, {
      subid,
      flowId: flow.id,
      affiliateId: trace.affiliate?.affiliateId ?? null,
      source,
      cost,
      country,
      externalId,
      subIds,
      agent,
      languages: facts.languages,
      landingIndex,
      offerIndex,
      day,
    });

    const base = {
      subid,
      campaignId: campaign.id,
      flowId: flow.id,
      log,
      issuedAt: now,
      cost,
      click: null,
      unique: { campaign: unique.campaign, flow: unique.flow(flow.id), global: unique.global },
      isBot: agent.isBot,
    };
    const result = this.respond(campaign, flow, base, { landingIndex, offerIndex, macroValues, subid, now }, log);
    if (!settings.gdprMode && record && !dropped) result.uniquenessCookie = this.signUniquenessCookie(visitorId);

    if (!screened) log.push('test run: no click stored');
    else if (!flow.collectClicks) log.push(`${flow.name} does not collect clicks: no click stored`);
    else if (dropped) result.click = { status: 'dropped', declineReason: screened.declineReason };
    else
      result.click = await this.recordClick(screened, result, {
        campaign,
        flow,
        bound: choice.bound,
        source,
        landingIndex,
        offerIndex,
        now,
        day,
        cost,
        unique,
        subIds,
        externalId,
        agent,
        language: facts.languages[0] ?? null,
        marks: [scopeNames.campaign, scopeNames.global, `f${flow.id}`].flatMap((scope) =>
          markDevices.map((d) => ({ scope, device_key: d, seen_at: now })),
        ),
        bindKeys,
      });
    return result;
  }
  /**
   * The click rules of every entry point: affiliate, fraud check. A declined or dropped click is
   * still routed like any other (README, "The same click rules everywhere"); only what is stored
   * differs. A test run (`record` off) only says what would happen.
   */
  private async screenClick(
    campaign: Campaign,
    req: RunRequest,
    snap: ConfigSnapshot,
    c: { record: boolean; now: number; country: string | null; visitorId: string; newVisitor: boolean; log: string[] },
  ): Promise<{ trace: ReturnType<typeof matchCampaignUrlClick>; screened: ScreenedClick | null }> {
    const { record, now, country, visitorId, log } = c;
    const names = snap.settings.urlParams;
    const affiliateRef = req.params[names.affiliate];
    const trace = matchCampaignUrlClick(campaign, affiliateRef, snap.affiliateByRef(affiliateRef), snap);
    let screened: ScreenedClick | null = null;
    if (record) {
      screened = await this.pipeline.screen({
        source: 'campaign',
        snap,
        at: now,
        ip: req.ip,
        userAgent: req.userAgent,
        referrer: req.referrer,
        country,
        visitorId,
        newVisitor: c.newVisitor,
        trace,
        bannerId: null,
        params: req.params,
        url: null,
      });
      if (screened.dropped)
        log.push(`click dropped by the fraud rule ${screened.dropped.rule} (${screened.dropped.reason}): not stored`);
      else if (screened.declineReason) log.push(`click declined: ${screened.declineReason}`);
    } else if (trace.declineReason) log.push(`the click would be declined: ${trace.declineReason}`);
    return { trace, screened };
  }

  /** The device keys of this visit and whether it is unique per campaign, flow and globally. */
  private async visitUniqueness(
    campaign: Campaign,
    req: RunRequest,
    gdprMode: boolean,
    v: { cookieVisitor: string | null; visitorId: string; flows: FlowDef[]; now: number },
    log: string[],
  ) {
    const { cookieVisitor, visitorId, flows, now } = v;
    const settings = { gdprMode };
    const mode = (campaign.uniqueness as UniquenessMode) ?? 'ip_ua';
    const effectiveMode: UniquenessMode = mode === 'cookie' && settings.gdprMode ? 'ip_ua' : mode;
    const device = deviceKey(effectiveMode, cookieVisitor, req.ip, req.userAgent);
    const ipUaDevice = deviceKey('ip_ua', null, req.ip, req.userAgent);
    // Seen-marks go to every key a later visit may be looked up by: with `cookie`, the cookie this
    // answer sets (a visitor without one gets it now) and the IP + UA device record behind it.
    const markDevices =
      effectiveMode === 'cookie'
        ? [...new Set([device, deviceKey('cookie', visitorId, req.ip, req.userAgent), ipUaDevice])]
        : [device];
    if (mode === 'cookie' && settings.gdprMode)
      log.push('uniqueness by cookie is unavailable in GDPR mode: using IP + user agent');
    const scopeNames = scopes(campaign.id, null);
    const flowScopes = flows.map((f) => `f${f.id}`);
    const seen = await this.lastSeen(device, [scopeNames.campaign, scopeNames.global, ...flowScopes]);
    const ttl = campaign.uniquenessTtlHours ?? 24;
    const unique = {
      campaign: isUniqueVisit(seen.get(scopeNames.campaign) ?? null, now, ttl),
      global: isUniqueVisit(seen.get(scopeNames.global) ?? null, now, ttl),
      flow: (flowId: number) => isUniqueVisit(seen.get(`f${flowId}`) ?? null, now, ttl),
    };

    return { unique, scopeNames, markDevices, ipUaDevice };
  }

  /**
   * Shared counts (SPEC §16): read, choose, then take the place with one compare-and-set; when
   * another process took the last place meanwhile, the flow counts as full and the choice is
   * made again.
   */
  private async chooseSharedFlow(
    shared: SharedState,
    sharedCounts: Map<number, number>,
    c: {
      flows: FlowDef[];
      rotation: 'position' | 'weight';
      facts: VisitorFacts;
      boundFlowId: number | null;
      limited: number[];
      day: string;
      record: boolean;
      storedToday: (flowId: number) => Promise<number>;
    },
  ): Promise<ReturnType<typeof selectFlow>> {
    const { flows, rotation, facts, limited, day, record, storedToday } = c;
    let choice: ReturnType<typeof selectFlow>;
    for (const id of limited) {
      const value = await shared.read('flow', `${id}|${day}`);
      sharedCounts.set(id, value === null ? await storedToday(id) : Number(value));
    }
    // Each lost place closes one flow, so this ends; the bound ends it for a flow chosen
    // whatever its count (a binding).
    for (let tries = 0; ; tries++) {
      choice = selectFlow(flows, rotation, facts, this.random, c.boundFlowId);
      const chosen = choice.flow;
      if (!record || !chosen || !limited.includes(chosen.id) || tries > flows.length) break;
      const limit = clickLimitOf(chosen);
      const taken = await shared.incrementBelow('flow', `${chosen.id}|${day}`, limit, 2 * 86_400_000, () =>
        storedToday(chosen.id),
      );
      if (taken) break;
      sharedCounts.set(chosen.id, limit);
    }
    return choice;
  }

  /** The macro values of a click's target URLs (`{subid}`, Keitaro's, …). */
  private macros(
    campaign: Campaign,
    req: RunRequest,
    c: {
      subid: string;
      flowId: number;
      affiliateId: number | null;
      source: ReturnType<ConfigSnapshot['sources']['get']>;
      cost: Units;
      country: string | null;
      externalId: string | null;
      subIds: Record<string, string>;
      agent: ReturnType<typeof agentFacts>;
      languages: string[];
      landingIndex: number | null;
      offerIndex: number | null;
      day: string;
    },
  ) {
    return clickMacros({
      subid: c.subid,
      campaignId: campaign.id,
      flowId: c.flowId,
      affiliateId: c.affiliateId,
      source: c.source?.name ?? null,
      cost: c.cost,
      country: c.country,
      ip: req.ip,
      externalId: c.externalId,
      subIds: c.subIds,
      keitaro: {
        campaignName: campaign.name,
        os: c.agent.os,
        browser: c.agent.browser,
        language: c.languages[0] ?? null,
        referrer: req.referrer,
        keyword: req.params.keyword ?? null,
        landingIndex: c.landingIndex,
        offerIndex: c.offerIndex,
        date: c.day,
        random: this.random,
        userAgent: req.userAgent || null,
        deviceType: c.agent.device,
      },
    });
  }

  /** The answer of the chosen flow: a redirect, a text, nothing, or its landing or offer. */
  private respond(
    campaign: Campaign,
    flow: FlowDef,
    base: Omit<RunResult, 'status' | 'location' | 'body' | 'type' | 'uniquenessCookie'>,
    c: {
      landingIndex: number | null;
      offerIndex: number | null;
      macroValues: ReturnType<typeof clickMacros>;
      subid: string;
      now: number;
    },
    log: string[],
  ): RunResult {
    const { landingIndex, offerIndex, macroValues, subid, now } = c;
    if (flow.schema === 'redirect' && flow.redirectUrl) {
      return {
        ...base,
        status: 302,
        location: fillMacros(flow.redirectUrl, macroValues),
        body: null,
        type: 'redirect',
        uniquenessCookie: null,
      };
    } else if (flow.schema === 'action') {
      if (flow.action === 'show_text')
        return {
          ...base,
          status: 200,
          location: null,
          body: flow.actionText ?? '',
          type: 'show_text',
          uniquenessCookie: null,
        };
      else if (flow.action === 'do_nothing')
        return { ...base, status: 200, location: null, body: '', type: 'do_nothing', uniquenessCookie: null };
      else return { ...base, status: 404, location: null, body: null, type: 'not_found', uniquenessCookie: null };
    } else {
      const landing = landingIndex !== null ? flow.landings[landingIndex] : undefined;
      const offer = offerIndex !== null ? flow.offers[offerIndex] : undefined;
      const target = landing ?? offer;
      if (!target) {
        log.push(`${flow.name}: no landing or offer with weight > 0: 404`);
        return { ...base, status: 404, location: null, body: null, type: 'not_found', uniquenessCookie: null };
      } else {
        log.push(
          landing
            ? `landing ${landingIndex! + 1}: ${landing.url}`
            : `straight to offer ${offerIndex! + 1}: ${offer!.url}`,
        );
        let location = fillMacros(target.url, macroValues);
        if (landing && campaign.bypassCache) {
          location = appendQuery(location, [
            [BYPASS_SUBID_PARAM, subid],
            [BYPASS_TS_PARAM, String(now)],
          ]);
          log.push(`bypass cache: the landing URL carries ${BYPASS_SUBID_PARAM} and ${BYPASS_TS_PARAM}`);
        }
        return {
          ...base,
          status: 302,
          location,
          body: null,
          type: landing ? 'landing' : 'offer',
          uniquenessCookie: null,
        };
      }
    }
  }

  /** Stores the click (through the group-commit pipeline) with its flow, target and seen-marks. */
  private async recordClick(
    screened: ScreenedClick,
    result: RunResult,
    c: {
      campaign: Campaign;
      flow: FlowDef;
      bound: boolean;
      source: ReturnType<ConfigSnapshot['sources']['get']>;
      landingIndex: number | null;
      offerIndex: number | null;
      now: number;
      day: string;
      cost: Units;
      unique: { campaign: boolean; global: boolean; flow: (flowId: number) => boolean };
      subIds: Record<string, string>;
      externalId: string | null;
      agent: ReturnType<typeof agentFacts>;
      language: string | null;
      marks: Array<{ scope: string; device_key: string; seen_at: number }>;
      bindKeys: string[];
    },
  ): Promise<NonNullable<RunResult['click']>> {
    const { campaign, flow, bound, source, landingIndex, offerIndex, now, day, cost, unique } = c;
    const { subIds, externalId, agent, language, bindKeys } = c;
    const uniqueFlow = unique.flow(flow.id);
    const stored = this.pipeline.record(screened, {
      columns: {
        flow_id: flow.id,
        source_id: source?.id ?? null,
        landing_index: landingIndex,
        offer_index: offerIndex,
        landing_url: result.type === 'landing' ? cut(result.location, URL_LENGTH) : null,
        offer_url: result.type === 'offer' || result.type === 'redirect' ? cut(result.location, URL_LENGTH) : null,
        offer_at: result.type === 'offer' || result.type === 'redirect' ? now : null,
        cost,
        unique_campaign: unique.campaign ? 1 : 0,
        unique_flow: uniqueFlow ? 1 : 0,
        unique_global: unique.global ? 1 : 0,
        sub_ids: JSON.stringify(subIds),
        external_id: cut(externalId, KEY_LENGTH),
        device: cut(agent.device, 16),
        os: cut(agent.os, CODE_LENGTH),
        browser: cut(agent.browser, CODE_LENGTH),
        language: cut(language, 16),
        is_bot: agent.isBot ? 1 : 0,
      },
      flow: { flowId: flow.id, rotation: campaign.flowRotation, bound: bound, type: result.type },
      statusOverride: unique.campaign ? 'unique' : 'raw',
      marks: c.marks,
      binding:
        campaign.bindVisitors && campaign.bindVisitors !== 'none'
          ? bindKeys.map((visitor_key) => ({
              campaign_id: campaign.id,
              visitor_key,
              flow_id: flow.id,
              landing_index: landingIndex,
              offer_index: offerIndex,
              updated_at: now,
            }))
          : null,
    });
    // Counted in the same turn as selectFlow read the count (see above); shared counts were
    // taken before.
    if (!this.shared) this.flowClicks.add(flow.id, day, stored);
    const recorded = await stored;
    return { status: recorded.status, declineReason: recorded.declineReason };
  }

  private readUniquenessCookie(token: string | null): string | null {
    if (!token) return null;
    try {
      const payload = jwt.verify(token, this.key, { algorithms: ['HS256'], issuer: 'affix-uniq' }) as { v?: unknown };
      return validVisitorId(payload.v);
    } catch {
      // A tampered or foreign cookie is ignored: the visitor counts as new.
      return null;
    }
  }

  /** The uniqueness cookie, read back with `jwt.verify` (see `signHs256Token`). */
  private signUniquenessCookie(visitorId: string): string {
    return signHs256Token(visitorId, this.key, Math.floor(Date.now() / 1000));
  }

  private lastSeen(device: string, scopeList: string[]): Promise<Map<string, number>> {
    return lastSeenMarks(this.db, device, scopeList);
  }

  /** The binding under the first of `visitorKeys` that has one. */
  private async binding(campaignId: number, visitorKeys: string[]) {
    const rows = await bindingsOf(this.db, campaignId, visitorKeys);
    for (const key of visitorKeys) {
      const row = rows.find((r) => r.visitor_key === key);
      if (row) return { flowId: row.flow_id, landingIndex: row.landing_index, offerIndex: row.offer_index };
    }
    return null;
  }

  private subIds(params: Record<string, string>, source: SourceParams | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (let n = 1; n <= 15; n++) {
      const key = `sub_id_${n}`;
      const value = params[source?.params[key] ?? key];
      if (value !== undefined) out[key] = clip(value, TEXT_LENGTH);
    }
    // The keyword dimension of reports (SPEC §15), under the source's `keyword` parameter name.
    const keyword = params[source?.params.keyword ?? 'keyword'];
    if (keyword !== undefined) out.keyword = clip(keyword, TEXT_LENGTH);
    return out;
  }

  /** SPEC §7.4: the model's cost, or (costAuto off) the `cost` parameter converted to the base currency. */
  private cost(
    campaign: Campaign,
    snap: ConfigSnapshot,
    params: Record<string, string>,
    source: SourceParams | undefined,
    uniqueInCampaign: boolean,
    log: string[],
  ): Units {
    let paramCost: Units | null = null;
    if (campaign.costAuto === false) {
      const raw = params[source?.params.cost ?? 'cost'];
      const currency = (
        params[source?.params.currency ?? 'currency'] ??
        campaign.costCurrency ??
        snap.settings.baseCurrency
      ).toUpperCase();
      try {
        const amount = raw === undefined ? ZERO : toUnits(raw);
        const rate = rateToBase(currency, snap.settings);
        // SPEC §10a: out of [0, 1,000,000,000] before or after conversion costs 0; the visitor still goes on.
        const converted = rate === null ? null : multiplyByRateWithin(amount, rate, MAX_AMOUNT_UNITS);
        if (rate === null) log.push(`cost currency ${currency} has no exchange rate: cost 0`);
        else if (amount > MAX_AMOUNT_UNITS || converted === null)
          log.push(`cost parameter ${JSON.stringify(raw).slice(0, 40)} is over the limit of ${AMOUNT_LIMIT}: cost 0`);
        paramCost = rate === null || amount < 0 || amount > MAX_AMOUNT_UNITS || converted === null ? ZERO : converted;
      } catch (err) {
        log.push(
          `cost parameter ${JSON.stringify(raw).slice(0, 40)} ${err instanceof MoneyRangeError ? `is over the limit of ${AMOUNT_LIMIT}` : 'is not a number'}: cost 0`,
        );
        paramCost = ZERO;
      }
    }
    return clickCost({
      model: (campaign.costModel ?? 'CPC') as CostModel,
      value: campaign.costValue,
      auto: campaign.costAuto !== false,
      paramCost,
      uniqueInCampaign,
      trafficLoss: campaign.trafficLoss,
    });
  }
}
