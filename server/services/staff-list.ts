import type { Knex } from 'knex';
import type { Role } from './actor.js';
import { listUsers, type User } from '../store/users.js';

/** The merchant's user accounts, by role (SPEC §13 staff). */
export class StaffList {
  constructor(private readonly db: Knex) {}

  list(roles: Role[]): Promise<User[]> {
    return listUsers(this.db, roles);
  }
}
