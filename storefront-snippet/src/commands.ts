/// <reference lib="dom" />
import { config } from './config.js';
import { beacon, pixel, post, type Json } from './transport.js';
import { allowed, remember, setConsent, urlParam, validId, visitorId } from './visitor.js';
import { pageSubid } from './bypass.js';

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The click in flight: sales wait for it so they carry the visitor id it returns. Never rejects. */
let pending: Promise<unknown> = Promise.resolve();
/** A click held back until consent (GDPR mode). */
let heldClick: Json | null = null;

/** `affix('click', { campaignId? })` — POST /t/click with this page's URL (SPEC §4.2, §5.1). */
export function click(data?: unknown): void {
  const options = isObject(data) ? data : {};
  if (!allowed()) {
    heldClick = options;
    return;
  }
  const body: Json = {
    url: location.href,
    referrer: document.referrer || undefined,
    visitorId: visitorId() || undefined,
  };
  if (options.campaignId !== undefined) body.campaignId = options.campaignId;
  if (config.gdpr) body.consent = true;
  pending = post('/t/click', JSON.stringify(body)).then((answer) => {
    const id = validId(answer && answer.visitorId);
    if (id) remember(id);
  });
}

/** `affix('sale' | 'action', data)` — sent as a beacon once any click in flight has answered. */
function conversion(kind: string, data: unknown): void {
  if (!isObject(data)) return;
  void pending.then(() => {
    try {
      const id = visitorId();
      beacon('/t/' + kind, id && !data.visitorId ? Object.assign({}, data, { visitorId: id }) : data);
    } catch {
      /* data that cannot be sent (e.g. circular) is dropped */
    }
  });
}

/** `affix('impression', { bannerId, affiliateId? })` — the GET /t/impression pixel. */
function impression(data: unknown): void {
  if (!isObject(data) || data.bannerId === undefined || data.bannerId === null) return;
  const names = config.params;
  const query = new URLSearchParams();
  query.set(names.banner, String(data.bannerId));
  const affiliate = data.affiliateId !== undefined ? String(data.affiliateId) : urlParam(names.affiliate);
  if (affiliate) query.set(names.affiliate, affiliate);
  const id = visitorId();
  if (id) query.set('vid', id);
  pixel('/t/impression', query);
}

function consent(value: unknown): void {
  if (value !== true && value !== false) return;
  setConsent(value);
  if (value && heldClick) {
    const held = heldClick;
    heldClick = null;
    click(held);
  }
  if (!value) heldClick = null;
}

/**
 * `affix('offer', { subid? })` on a landing page of a traffic campaign: on to the offer through
 * GET /lp/offer, keeping the click (SPEC §7.2). The subid is the page's `_subid` or `subid` parameter.
 */
function offer(data: unknown): void {
  const subid = isObject(data) && typeof data.subid === 'string' ? data.subid : pageSubid();
  if (subid) location.href = config.endpoint + '/lp/offer?subid=' + encodeURIComponent(subid);
}

/** Runs one command; only `visitorId` answers (a promise of the id, or null). */
export function run(command: unknown, data: unknown): Promise<string | null> | undefined {
  if (command === 'click') click(data);
  else if (command === 'sale' || command === 'action') conversion(command, data);
  else if (command === 'impression') impression(data);
  else if (command === 'consent') consent(data);
  else if (command === 'offer') offer(data);
  else if (command === 'visitorId') return pending.then(visitorId);
  return undefined;
}
