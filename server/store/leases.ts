import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';

/**
 * Takes or renews the lease `name` for `holder` until `until` (ms). True when `holder` holds it
 * now: it was free, expired, or already this holder's. One guarded UPDATE decides, so of several
 * processes asking at once exactly one gets it.
 */
export async function takeLease(db: Knex, name: string, holder: string, now: number, until: number): Promise<boolean> {
  const helper = dialectHelper(db);
  try {
    await db('leases').insert({ name, holder, expires_at: until });
    return true;
  } catch (err) {
    if (!helper.isUniqueViolation(err) && !helper.isRetriable(err)) throw err;
  }
  try {
    const changed = await db('leases')
      .where({ name })
      .andWhere((q) => void q.where({ holder }).orWhere('expires_at', '<', now))
      .update({ holder, expires_at: until });
    return Number(changed) === 1;
  } catch (err) {
    // Another node changed the row at the same moment (a Galera certification conflict).
    if (helper.isRetriable(err)) return false;
    throw err;
  }
}

/** Gives the lease back (only while `holder` holds it). */
export async function releaseLease(db: Knex, name: string, holder: string): Promise<void> {
  await db('leases').where({ name, holder }).update({ expires_at: 0 });
}
