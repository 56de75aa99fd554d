import type { AppContext } from '../context.js';
import { jsonBody } from '../tracking.js';
import { AppError, fieldError } from '../../errors.js';
import { SIGNATURE_TOLERANCE_SECONDS, verifySignature } from '../../services/signature.js';
import type { AuthUser } from '../../services/auth.js';
import type { Answer, OnceKey } from '../../services/idempotency.js';

/** Who a server-to-server call comes from: a merchant token, or the secret key of one campaign. */
export type ServerCaller =
  | { kind: 'token'; user: AuthUser }
  | { kind: 'signature'; campaignId: number; /** the matching v1 MAC: the same for an exact replay */ mac: string };

/**
 * Server-to-server calls are authenticated by a merchant API token or by a campaign signature
 * (SPEC §4.2, §10a). A signature is checked only against the keys `signers()` names — the
 * campaign the body names, or for a refund the campaigns that recorded the order — never against
 * every campaign: a request costs one HMAC, and one campaign's key speaks for that campaign only.
 */
export async function authenticateServer(
  ctx: AppContext,
  signers: () => Promise<number[]> | number[],
): Promise<ServerCaller> {
  const user = ctx.state.user;
  if (user) {
    if (user.role === 'affiliate') throw new AppError('forbidden', 'Affiliates cannot record sales');
    return { kind: 'token', user };
  }
  const header = ctx.get('X-Affix-Signature');
  if (!header)
    throw new AppError('unauthorized', 'Send an API token (Authorization: Bearer …) or an X-Affix-Signature header');
  const snap = await ctx.services.cache.snapshot();
  const campaigns = [...new Set(await signers())].flatMap((id) => snap.campaigns.get(id) ?? []);
  if (!campaigns.length)
    throw new AppError('unauthorized', 'Invalid X-Affix-Signature: the body names no campaign of this tracker');
  const raw = (ctx.request as { rawBody?: string }).rawBody ?? '';
  const check = verifySignature(
    header,
    raw,
    campaigns.map((c) => c.secretKey),
    ctx.services.clock(),
  );
  if (!check.ok) {
    const whose = campaigns.map((c) => c.id).join(' or ');
    throw new AppError(
      'unauthorized',
      `Invalid X-Affix-Signature: ${check.reason}${/does not match/.test(check.reason) ? ` of campaign ${whose}` : ''}`,
    );
  }
  return { kind: 'signature', campaignId: campaigns[check.index]!.id, mac: check.mac };
}

/**
 * The campaign whose key must sign a sale or action: the one its body names, else the default
 * campaign (where a sale naming none lands by rule 7). A name that is no campaign: none.
 */
export async function signerOfSale(ctx: AppContext): Promise<number[]> {
  const snap = await ctx.services.cache.snapshot();
  const body = jsonBody(ctx) as { campaignId?: unknown } | null;
  const named = body && typeof body === 'object' ? body.campaignId : undefined;
  if (named === undefined || named === null || named === '') return [snap.defaultCampaign().id];
  const id = typeof named === 'number' || typeof named === 'string' ? Number(named) : NaN;
  return Number.isSafeInteger(id) && snap.campaigns.has(id) ? [id] : [];
}

const KEY_HOURS = 24;
/** An exact replay can come only within the signature's ±5 minutes: its answer is kept a little longer. */
const SIGNATURE_REPLAY_MS = 2 * SIGNATURE_TOLERANCE_SECONDS * 1000;

/** Literal text in `canonicalJson`'s work stack (every other entry is a value still to write). */
class Literal {
  constructor(readonly text: string) {}
}

/**
 * JSON with sorted keys, so a re-serialised body asks the same. It walks the body with its own
 * stack: a body is read before it is validated, and a value nested thousands deep must not
 * overflow the call stack (it is then refused by validation, as any unknown or wrong field).
 */
function canonicalJson(value: unknown): string {
  let out = '';
  const work: unknown[] = [value];
  while (work.length) {
    const next = work.pop();
    if (next instanceof Literal) {
      out += next.text;
    } else if (Array.isArray(next)) {
      work.push(new Literal(']'));
      for (let i = next.length - 1; i >= 0; i--) work.push(next[i], new Literal(i ? ',' : ''));
      work.push(new Literal('['));
    } else if (next && typeof next === 'object') {
      const entries = Object.entries(next as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      work.push(new Literal('}'));
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        work.push(v, new Literal(`${i ? ',' : ''}${JSON.stringify(k)}:`));
      }
      work.push(new Literal('{'));
    } else {
      out += JSON.stringify(next) ?? 'null';
    }
  }
  return out;
}

/**
 * Answers a server-to-server write once (SPEC §10a). The key is, first that applies: a refund's
 * `refundId` (kept for good, per sale, whoever sends it); the `Idempotency-Key` header (24 hours,
 * per signing campaign or token account); for a signed request without either, its signature
 * (an exact replay within the ±5 minutes cannot act twice). A replay gets the first status and
 * body, with `Idempotent-Replayed: true`. Token requests without a key act every time.
 */
export async function answerOnce(
  ctx: AppContext,
  caller: ServerCaller,
  refund: { saleId: number; refundId: string } | null,
  act: () => Promise<Answer>,
): Promise<void> {
  const fingerprint = `${ctx.method} ${ctx.path}?${new URLSearchParams(
    Object.entries(ctx.query)
      .map(([k, v]) => [k, String(v)])
      .sort(),
  ).toString()}\n${canonicalJson(jsonBody(ctx))}`;
  const header = ctx.headers['idempotency-key'];
  let key: OnceKey | null = null;
  if (refund) {
    key = { scope: `sale:${refund.saleId}`, key: refund.refundId, fingerprint, keepMs: null, label: 'refundId' };
  } else if (header !== undefined) {
    const value = Array.isArray(header) ? header.join(',') : header;
    if (!/^[\x21-\x7e]{1,255}$/.test(value))
      throw fieldError('Idempotency-Key', 'must be 1 to 255 visible ASCII characters');
    const scope = caller.kind === 'signature' ? `campaign:${caller.campaignId}` : `user:${caller.user.userId}`;
    key = { scope, key: value, fingerprint, keepMs: KEY_HOURS * 3_600_000, label: 'Idempotency-Key' };
  } else if (caller.kind === 'signature') {
    key = {
      scope: `campaign:${caller.campaignId}`,
      key: `signature:${caller.mac}`,
      fingerprint,
      keepMs: SIGNATURE_REPLAY_MS,
      label: 'signature',
    };
  }
  const answer = key ? await ctx.services.idempotency.once(key, act) : { ...(await act()), replayed: false };
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  ctx.status = answer.status;
  ctx.body = answer.body;
}
