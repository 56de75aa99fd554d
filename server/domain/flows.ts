/**
 * Flow selection for campaign URLs (SPEC §7.2, the Keitaro algorithm), as pure functions: the
 * visitor's facts, the campaign's flows and a random source in; the chosen flow, landing, offer
 * and a log of why each flow was or was not chosen out.
 */
import { BlockList, isIP } from 'node:net';

export const FILTER_NAMES = [
  'country',
  'ip',
  'device',
  'os',
  'browser',
  'language',
  'bot',
  'uniqueness',
  'param',
  'schedule',
  'clickLimit',
] as const;
export type FilterName = (typeof FILTER_NAMES)[number];

/** The device types a visitor's user agent is read as (ua-parser-js's, and desktop when it names none). */
export const DEVICE_TYPES = ['desktop', 'mobile', 'tablet', 'smarttv', 'console', 'wearable', 'embedded'] as const;

export interface FilterDef {
  name: FilterName;
  mode: 'is' | 'is_not';
  values: string[];
  /** For `param`: the URL parameter the filter reads. */
  param?: string;
}

export interface WeightedUrl {
  url: string;
  weight: number;
}

export interface FlowDef {
  id: number;
  campaignId: number;
  name: string;
  type: 'forced' | 'regular' | 'default';
  position: number;
  weight: number;
  status: 'active' | 'paused';
  collectClicks: boolean;
  filters: FilterDef[];
  filtersMode: 'and' | 'or';
  schema: 'landings_offers' | 'redirect' | 'action';
  landings: WeightedUrl[];
  offers: WeightedUrl[];
  redirectUrl: string | null;
  action: 'not_found' | 'do_nothing' | 'show_text' | null;
  actionText: string | null;
}

export interface VisitorFacts {
  ip: string;
  country: string | null;
  device: string | null;
  os: string | null;
  browser: string | null;
  /** Primary languages from Accept-Language, lower case ("en", "de"). */
  languages: string[];
  isBot: boolean;
  /** Uniqueness of this visit per scope (SPEC §7.3). */
  unique: { campaign: boolean; global: boolean; flow(flowId: number): boolean };
  params: Record<string, string>;
  now: number;
  /** The zone schedules are written in. */
  timeZone: string;
  /** Clicks the flow has already collected today, for `clickLimit`. */
  flowClicksToday(flowId: number): number;
}

const lower = (v: string | null | undefined) => (v ?? '').toLowerCase();

function ipMatches(ip: string, values: string[]): boolean {
  const address = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  const family = isIP(address);
  if (!family) return false;
  const list = new BlockList();
  for (const v of values) {
    const [base = '', bits] = v.trim().split('/');
    const f = isIP(base);
    if (!f) continue;
    if (bits === undefined) list.addAddress(base, f === 6 ? 'ipv6' : 'ipv4');
    else list.addSubnet(base, Number(bits), f === 6 ? 'ipv6' : 'ipv4');
  }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/** "mon-fri 09:00-18:00", "sat,sun 10:00-14:00", "* 00:00-06:00": is `now` inside the window? */
export function inSchedule(spec: string, now: number, timeZone: string): boolean {
  const m = /^\s*([a-z*,-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/i.exec(spec);
  if (!m) return false;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const day = DAYS.indexOf(lower(parts.find((p) => p.type === 'weekday')?.value).slice(0, 3));
  const minutes =
    Number(parts.find((p) => p.type === 'hour')?.value) * 60 + Number(parts.find((p) => p.type === 'minute')?.value);
  const daySpec = lower(m[1]);
  const days = new Set<number>();
  if (daySpec === '*') for (let i = 0; i < 7; i++) days.add(i);
  for (const piece of daySpec.split(',')) {
    const [a, b] = piece.split('-');
    const from = DAYS.indexOf(a ?? '');
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0) continue;
    for (let i = from; ; i = (i + 1) % 7) {
      days.add(i);
      if (i === to) break;
    }
  }
  const start = Number(m[2]) * 60 + Number(m[3]);
  const end = Number(m[4]) * 60 + Number(m[5]);
  if (start <= end) return days.has(day) && minutes >= start && minutes < end;
  // A window past midnight ("fri 22:00-02:00") belongs to the day it starts on.
  return (days.has(day) && minutes >= start) || (days.has((day + 6) % 7) && minutes < end);
}

/** Whether one filter's condition holds (before `is_not` inverts it), and what was seen. */
function condition(f: FilterDef, v: VisitorFacts, flowId: number): { holds: boolean; seen: string } {
  const values = f.values.map((x) => x.trim()).filter(Boolean);
  const has = (x: string | null) => x !== null && values.some((val) => lower(val) === lower(x));
  switch (f.name) {
    case 'country':
      return { holds: has(v.country), seen: v.country ?? 'unknown' };
    case 'ip':
      return { holds: ipMatches(v.ip, values), seen: v.ip };
    case 'device':
      return { holds: has(v.device), seen: v.device ?? 'unknown' };
    case 'os':
      return { holds: has(v.os), seen: v.os ?? 'unknown' };
    case 'browser':
      return { holds: has(v.browser), seen: v.browser ?? 'unknown' };
    case 'language':
      return {
        // Visitors' languages are primary ones (de of de-DE): a filter value is compared by its own.
        holds: v.languages.some((l) => values.some((val) => lower(val).split('-')[0] === l)),
        seen: v.languages.join(',') || 'none',
      };
    case 'bot':
      return { holds: v.isBot, seen: v.isBot ? 'bot' : 'not a bot' };
    case 'uniqueness': {
      const scope = lower(values[0] ?? 'campaign');
      const unique =
        scope === 'flow' ? v.unique.flow(flowId) : scope === 'global' ? v.unique.global : v.unique.campaign;
      return { holds: unique, seen: `${unique ? 'unique' : 'not unique'} (${scope})` };
    }
    case 'param': {
      const value = f.param ? v.params[f.param] : undefined;
      const holds = value !== undefined && (values.includes('*') ? value !== '' : has(value));
      return { holds, seen: `${f.param ?? '?'}=${value ?? '(absent)'}` };
    }
    case 'schedule':
      return { holds: values.some((s) => inSchedule(s, v.now, v.timeZone)), seen: new Date(v.now).toISOString() };
    case 'clickLimit': {
      const limit = Number(values[0] ?? 0);
      const used = v.flowClicksToday(flowId);
      return { holds: Number.isFinite(limit) && used < limit, seen: `${used} clicks today` };
    }
  }
}

/** Do the flow's filters pass (combined with `filtersMode`)? Returns the reasons for the log. */
export function filtersPass(flow: FlowDef, v: VisitorFacts): { pass: boolean; reasons: string[] } {
  if (!flow.filters.length) return { pass: true, reasons: ['no filters'] };
  const results = flow.filters.map((f) => {
    const c = condition(f, v, flow.id);
    const ok = f.mode === 'is' ? c.holds : !c.holds;
    const label = f.name === 'param' ? `param ${f.param ?? ''}` : f.name;
    return {
      ok,
      text: `${label} ${f.mode === 'is' ? 'is' : 'is not'} [${f.values.join(', ')}]: ${ok ? 'passed' : 'failed'} (${c.seen})`,
    };
  });
  const pass = flow.filtersMode === 'or' ? results.some((r) => r.ok) : results.every((r) => r.ok);
  return { pass, reasons: results.map((r) => r.text) };
}

/** Picks by weight; items with weight ≤ 0 are never picked. Null when nothing has weight. */
export function pickWeighted<T extends { weight: number }>(items: T[], random: () => number): T | null {
  const total = items.reduce((s, i) => s + Math.max(0, i.weight), 0);
  if (total <= 0) return null;
  let r = random() * total;
  for (const item of items) {
    const w = Math.max(0, item.weight);
    if (r < w) return item;
    r -= w;
  }
  return items.filter((i) => i.weight > 0).at(-1) ?? null;
}

export interface FlowChoice {
  flow: FlowDef | null;
  log: string[];
  /** True when the bound flow of a returning visitor was kept. */
  bound: boolean;
}

const flowLabel = (f: FlowDef) => `flow ${f.id} "${f.name}" (${f.type}, position ${f.position}, weight ${f.weight})`;

/**
 * SPEC §7.2. Position rotation: forced flows top to bottom, the first whose filters pass; then
 * regular flows likewise; then the default flow. Weight rotation: a weighted random choice among
 * the forced flows whose filters pass, then among the regular ones, then the default. A bound
 * visitor keeps its flow while it is active and its filters pass, even at weight 0.
 */
export function selectFlow(
  flows: FlowDef[],
  rotation: 'position' | 'weight',
  v: VisitorFacts,
  random: () => number,
  boundFlowId: number | null = null,
): FlowChoice {
  const log: string[] = [];
  const active = flows.filter((f) => f.status === 'active').sort((a, b) => a.position - b.position || a.id - b.id);
  if (boundFlowId !== null) {
    const bound = active.find((f) => f.id === boundFlowId);
    if (bound) {
      const check = filtersPass(bound, v);
      if (check.pass || bound.type === 'default') {
        log.push(`${flowLabel(bound)}: the visitor is bound to it and its filters pass — kept`);
        return { flow: bound, log, bound: true };
      }
      log.push(
        `${flowLabel(bound)}: the visitor was bound to it but its filters no longer pass (${check.reasons.join('; ')})`,
      );
    } else {
      log.push(`the visitor was bound to flow ${boundFlowId}, which is no longer active`);
    }
  }
  for (const type of ['forced', 'regular'] as const) {
    const passing: FlowDef[] = [];
    for (const f of active.filter((x) => x.type === type)) {
      const check = filtersPass(f, v);
      log.push(`${flowLabel(f)}: ${check.pass ? 'filters pass' : 'filters fail'} — ${check.reasons.join('; ')}`);
      if (!check.pass) continue;
      if (rotation === 'position') {
        log.push(`chosen: ${flowLabel(f)}, the first ${type} flow whose filters pass`);
        return { flow: f, log, bound: false };
      }
      passing.push(f);
    }
    if (rotation === 'weight' && passing.length) {
      const chosen = pickWeighted(passing, random);
      if (chosen) {
        log.push(`chosen: ${flowLabel(chosen)} by weight among ${passing.length} ${type} flows whose filters pass`);
        return { flow: chosen, log, bound: false };
      }
      log.push(`the ${type} flows whose filters pass all have weight 0`);
    }
  }
  const fallback = active.find((f) => f.type === 'default');
  if (fallback) {
    log.push(`chosen: ${flowLabel(fallback)}, the default flow`);
    return { flow: fallback, log, bound: false };
  }
  log.push('no flow applies and there is no default flow: 404');
  return { flow: null, log, bound: false };
}

/** The landing and offer for the chosen flow: kept from the binding when still present, else by weight. */
export function pickLandingOffer(
  flow: FlowDef,
  random: () => number,
  bound: { landingIndex: number | null; offerIndex: number | null } = { landingIndex: null, offerIndex: null },
): { landingIndex: number | null; offerIndex: number | null } {
  if (flow.schema !== 'landings_offers') return { landingIndex: null, offerIndex: null };
  const choose = (list: WeightedUrl[], keep: number | null) => {
    if (keep !== null && list[keep] !== undefined) return keep;
    const picked = pickWeighted(
      list.map((item, index) => ({ ...item, index })),
      random,
    );
    return picked ? picked.index : null;
  };
  return { landingIndex: choose(flow.landings, bound.landingIndex), offerIndex: choose(flow.offers, bound.offerIndex) };
}
