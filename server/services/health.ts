import type { Knex } from 'knex';
import { ping } from '../db/index.js';

/** What GET /healthz reports (SPEC §11): whether the database answers. */
export class HealthCheck {
  constructor(private readonly db: Knex) {}

  /** Resolves when the database answers a trivial query; rejects with its error when it does not. */
  database(): Promise<void> {
    return ping(this.db);
  }
}
