import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { GroupWriter } from '../../server/ingest/group-writer.js';
import { deferred } from '../helpers/async.js';

/** A promise with its resolve / reject outside, to hold a batch open. */
const tick = () => new Promise((r) => setImmediate(r));

describe('GroupWriter (group commit, SPEC §12)', () => {
  test('many writes in one tick share one batch, results in input order', async () => {
    const batches: number[][] = [];
    const w = new GroupWriter<number, string>(async (items) => {
      batches.push([...items]);
      await tick();
      return items.map((i) => `done ${i}`);
    });
    const inputs = Array.from({ length: 200 }, (_, i) => i);
    const results = await Promise.all(inputs.map((i) => w.write(i)));
    assert.deepEqual(
      results,
      inputs.map((i) => `done ${i}`),
    );
    assert.equal(batches.length, 1, `one batch expected, got ${batches.length}`);
    assert.deepEqual(batches[0], inputs);
    assert.deepEqual(w.stats, { batches: 1, items: 200 });
  });

  test('writes arriving while a batch is written form the next batch', async () => {
    const gate = deferred();
    const batches: number[][] = [];
    const w = new GroupWriter<number, number>(async (items) => {
      batches.push([...items]);
      if (batches.length === 1) await gate.promise;
      return items.map((i) => i * 10);
    });
    const first = [w.write(1), w.write(2)];
    await tick();
    await tick();
    assert.equal(batches.length, 1);
    const second = Array.from({ length: 50 }, (_, i) => w.write(100 + i));
    await tick();
    assert.equal(batches.length, 1, 'the second group waits for the first batch');
    gate.resolve();
    assert.deepEqual(await Promise.all(first), [10, 20]);
    assert.deepEqual(
      await Promise.all(second),
      Array.from({ length: 50 }, (_, i) => (100 + i) * 10),
    );
    assert.equal(batches.length, 2);
    assert.equal(batches[1]?.length, 50);
    assert.ok(w.stats.batches <= 2);
  });

  test("each promise resolves only after its batch's writeBatch resolved", async () => {
    const gate = deferred<string[]>();
    let calls = 0;
    const w = new GroupWriter<string, string>((items) => {
      calls++;
      assert.deepEqual(items, ['a', 'b', 'c']);
      return gate.promise;
    });
    const settled: string[] = [];
    const ps = ['a', 'b', 'c'].map((x) => w.write(x).then((r) => settled.push(r)));
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(calls, 1);
    assert.deepEqual(settled, [], 'nothing is acknowledged before the batch commits');
    gate.resolve(['A', 'B', 'C']);
    await Promise.all(ps);
    assert.deepEqual(settled, ['A', 'B', 'C']);
  });

  test('maxBatch splits a large group', async () => {
    const sizes: number[] = [];
    const w = new GroupWriter<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items;
      },
      { maxBatch: 10 },
    );
    const out = await Promise.all(Array.from({ length: 35 }, (_, i) => w.write(i)));
    assert.deepEqual(
      out,
      Array.from({ length: 35 }, (_, i) => i),
    );
    assert.deepEqual(sizes, [10, 10, 10, 5]);
    assert.deepEqual(w.stats, { batches: 4, items: 35 });
  });

  test('a failing batch is retried item by item: good items succeed, only the bad one rejects', async () => {
    const calls: number[][] = [];
    const errors: Array<{ size: number }> = [];
    const w = new GroupWriter<number, string>(
      async (items) => {
        calls.push([...items]);
        if (items.includes(13)) throw new Error('unlucky 13');
        return items.map((i) => `ok ${i}`);
      },
      { onBatchError: (_err, size) => errors.push({ size }) },
    );
    const inputs = [10, 11, 12, 13, 14, 15];
    const results = await Promise.allSettled(inputs.map((i) => w.write(i)));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.deepEqual(
      results.filter((r): r is PromiseFulfilledResult<string> => r.status === 'fulfilled').map((r) => r.value),
      ['ok 10', 'ok 11', 'ok 12', 'ok 14', 'ok 15'],
    );
    const bad = results[3] as PromiseRejectedResult;
    assert.match(String((bad.reason as Error).message), /unlucky 13/);
    assert.deepEqual(calls[0], inputs);
    assert.deepEqual(
      calls.slice(1),
      inputs.map((i) => [i]),
      'then one call per item, in order',
    );
    assert.deepEqual(errors, [{ size: 6 }]);
    // The writer keeps working afterwards.
    assert.equal(await w.write(16), 'ok 16');
  });

  test('drain waits for everything queued', async () => {
    const written: number[] = [];
    const w = new GroupWriter<number, void>(async (items) => {
      await new Promise((r) => setTimeout(r, 5));
      written.push(...items);
      return items.map(() => undefined);
    });
    for (let i = 0; i < 20; i++) void w.write(i);
    await w.drain();
    assert.equal(written.length, 20);
  });
});
