import type { Knex } from 'knex';
import type { LifetimeCustomerBook } from '../plugins/contract.js';
import { bindLifetimeCustomer, findLifetimeCustomer, type LifetimeBinding } from '../store/lifetime-customers.js';

/** The lifetime-commissions plugin's book of bound customers, over the lifetime_customers table. */
export class LifetimeCustomers implements LifetimeCustomerBook {
  constructor(private readonly db: Knex) {}

  bind(binding: LifetimeBinding): Promise<void> {
    return bindLifetimeCustomer(this.db, binding);
  }

  find(customerKey: string): Promise<LifetimeBinding | null> {
    return findLifetimeCustomer(this.db, customerKey);
  }
}
