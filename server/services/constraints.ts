import type { Knex } from 'knex';
import { dialectHelper } from '../db/index.js';
import { AppError, conflict } from '../errors.js';

/**
 * Runs `fn` and maps database constraint errors to the 409/422 a client can act on:
 * `onUnique` gets the driver message (it names the index) and returns the error to throw;
 * a foreign-key refusal becomes a 409 that says to archive instead (SPEC §9).
 */
export async function withConstraints<T>(
  db: Knex,
  what: string,
  onUnique: (message: string) => AppError,
  fn: () => Promise<T>,
): Promise<T> {
  const dialect = dialectHelper(db);
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (dialect.isUniqueViolation(err)) throw onUnique(String((err as Error).message));
    if (dialect.isForeignKeyViolation(err)) {
      throw conflict(
        `The ${what} is still referenced by recorded history; archive it instead (PATCH { "archived": true })`,
      );
    }
    throw err;
  }
}
