import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { conflict } from '../errors.js';
import { claimKey, deleteExpiredKeys, findKey, releaseKey, saveAnswer } from '../store/idempotency.js';

/** An answer to repeat: the HTTP status and the JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

export interface OnceKey {
  /** Whose key it is: `campaign:<id>` (a signature), `user:<id>` (a token), `sale:<id>` (a refundId). */
  scope: string;
  key: string;
  /** What the request asks for: a replay must ask the same, else the key was reused by mistake. */
  fingerprint: string;
  /** How long the answer is kept, in ms; null: for good. */
  keepMs: number | null;
  /** What the key is called in messages: "Idempotency-Key", "refundId", "signature". */
  label: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const PRUNE_EVERY_MS = 60_000;

/**
 * Requests that must act once (SPEC §10a): the first claims its key before acting and stores its
 * answer; a replay gets that answer back and changes nothing; one that arrives while the first
 * still runs is told to retry (409). Only successful answers are kept: after an error the key is
 * free again, so a corrected retry (or an order that has arrived meanwhile) can act.
 */
export class IdempotencyService {
  private lastPrune = 0;

  constructor(
    private readonly db: Knex,
    private readonly clock: () => number = Date.now,
  ) {}

  async once(k: OnceKey, act: () => Promise<Answer>): Promise<Answer & { replayed: boolean }> {
    const keyHash = sha256(`${k.scope}\0${k.key}`);
    const requestHash = sha256(k.fingerprint);
    const now = this.clock();
    await this.prune(now);
    const claim = { key_hash: keyHash, request_hash: requestHash, created_at: now, expires_at: null as number | null };
    if (k.keepMs !== null) claim.expires_at = now + k.keepMs;
    const busy = () =>
      conflict(`A request with this ${k.label} is still being answered; retry in a moment`, {
        [k.label]: k.key,
        retry: true,
      });
    for (let attempt = 0; !(await claimKey(this.db, claim)); attempt++) {
      if (attempt >= 2) throw busy();
      const first = await findKey(this.db, keyHash);
      if (!first) continue; // released meanwhile: claim it
      if (first.expires_at !== null && first.expires_at < now) {
        await releaseKey(this.db, keyHash);
        continue;
      }
      if (first.request_hash !== requestHash)
        throw conflict(`This ${k.label} was already used for a different request`, { [k.label]: k.key });
      if (first.status === null) throw busy();
      return { status: first.status, body: JSON.parse(first.body ?? 'null') as unknown, replayed: true };
    }
    let answer: Answer;
    try {
      answer = await act();
    } catch (err) {
      await releaseKey(this.db, keyHash);
      throw err;
    }
    await saveAnswer(this.db, keyHash, answer.status, JSON.stringify(answer.body));
    return { ...answer, replayed: false };
  }

  /** Forgets expired answers, at most once a minute per process. */
  private async prune(now: number): Promise<void> {
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    await deleteExpiredKeys(this.db, now);
  }
}
