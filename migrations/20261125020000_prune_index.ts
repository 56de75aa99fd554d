import type { Knex } from 'knex';

/* Pruning deletes uniqueness marks by age (server/services/pruning.ts): an index finds them. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uniqueness_marks', (t) => t.index(['seen_at'], 'uniqueness_marks_seen_at_index'));
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('uniqueness_marks', (t) => t.dropIndex(['seen_at'], 'uniqueness_marks_seen_at_index'));
}
