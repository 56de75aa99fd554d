import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FlowClickCounter } from '../../server/services/flow-click-counter.js';
import { deferred } from '../helpers/async.js';

/** A promise with its resolve function, to hold a "write" or a "query" open. */
describe('FlowClickCounter (clickLimit, issue 8.9)', () => {
  test('concurrent requests share one seed; nothing is counted before it', async () => {
    const counter = new FlowClickCounter();
    const query = deferred<number>();
    let queries = 0;
    const stored = () => {
      queries++;
      return query.promise;
    };
    const waits = [1, 2, 3].map(() => counter.ready([7], '2026-11-21', stored));
    assert.ok(waits.every((w) => w !== null));
    await new Promise((r) => setImmediate(r));
    assert.equal(queries, 1, 'one seed query for every waiting request');
    query.resolve(4);
    await Promise.all(waits);
    assert.equal(counter.count(7, '2026-11-21'), 4);
    assert.equal(counter.ready([7], '2026-11-21', stored), null, 'seeded: no await on the hot path');
  });

  test('the seed waits for clicks of the flow still being written, and counts each once', async () => {
    const counter = new FlowClickCounter();
    const write = deferred();
    counter.add(7, 'd', write.promise); // a click counted before the flow had a limit
    let committed = 0;
    const seeded = counter.ready([7], 'd', async () => committed);
    await new Promise((r) => setImmediate(r));
    committed = 1; // the write commits, then the query runs
    write.resolve();
    await seeded;
    assert.equal(counter.count(7, 'd'), 1);
    counter.add(7, 'd', Promise.resolve());
    assert.equal(counter.count(7, 'd'), 2);
  });

  test('a failed seed is tried again by the next request', async () => {
    const counter = new FlowClickCounter();
    await assert.rejects(counter.ready([7], 'd', () => Promise.reject(new Error('db down')))!);
    await counter.ready([7], 'd', async () => 3);
    assert.equal(counter.count(7, 'd'), 3);
  });

  test('each report day is counted on its own', async () => {
    const counter = new FlowClickCounter();
    await counter.ready([7], '2026-11-21', async () => 5);
    await counter.ready([7], '2026-11-22', async () => 0);
    assert.equal(counter.count(7, '2026-11-22'), 0);
  });
});
