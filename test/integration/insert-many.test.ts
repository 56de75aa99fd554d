import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { freshDatabaseTarget, dialectName } from '../helpers/app.js';
import { dialectHelper, dropDatabase, ensureDatabaseExists, openDatabase } from '../../server/db/index.js';

/** The batch insert the sale writer uses: ids in row order, all rows or none (SQLite and MariaDB). */
describe(`insertMany (${dialectName()})`, () => {
  const target = freshDatabaseTarget();
  let db: Knex;
  const names = async () =>
    ((await db('batch_rows').orderBy('id').select('name')) as Array<{ name: string }>).map((r) => r.name);

  before(async () => {
    await ensureDatabaseExists(target);
    db = openDatabase(target);
    await db.schema.createTable('batch_rows', (t) => {
      t.increments('id');
      t.string('name', 50).notNullable().unique();
      t.integer('n').nullable();
    });
  });
  after(async () => {
    await db.destroy();
    await dropDatabase(target);
  });

  test('answers each row its id, in order, in one call of 1,200 rows (more than one statement)', async () => {
    const rows = Array.from({ length: 1200 }, (_, i) => ({ name: `row-${i}`, n: i }));
    const ids = await db.transaction((trx) => dialectHelper(trx).insertMany(trx, 'batch_rows', rows));
    assert.equal(ids.length, 1200);
    const stored = (await db('batch_rows').select('id', 'name')) as Array<{ id: number | string; name: string }>;
    const idOf = new Map(stored.map((r) => [r.name, Number(r.id)]));
    rows.forEach((r, i) => assert.equal(ids[i], idOf.get(r.name), r.name));
    assert.equal(new Set(ids).size, 1200);
  });

  for (const size of [3, 700]) {
    test(`a duplicate in a call of ${size} rows writes none of them, and the transaction goes on`, async () => {
      const before = await names();
      const rows = Array.from({ length: size }, (_, i) => ({ name: `dup-${size}-${i}`, n: null }));
      rows[size - 1] = { name: 'row-5', n: null };
      await db.transaction(async (trx) => {
        await assert.rejects(dialectHelper(trx).insertMany(trx, 'batch_rows', rows), (err) =>
          dialectHelper(trx).isUniqueViolation(err),
        );
        const [id] = await dialectHelper(trx).insertMany(trx, 'batch_rows', [{ name: `after-${size}`, n: 1 }]);
        assert.ok(Number(id) > 0);
      });
      assert.deepEqual(await names(), [...before, `after-${size}`]);
    });
  }
});
