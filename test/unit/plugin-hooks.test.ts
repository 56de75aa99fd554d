import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Hooks } from '../../server/plugins/hooks.js';

/** The engine is tested with hooks of its own, outside the product's contract. */
type AnyHooks = Record<string, any[]>;

function recordingLog() {
  const calls: Array<{ obj: Record<string, unknown>; msg: string | undefined }> = [];
  return { calls, error: (obj: object, msg?: string) => void calls.push({ obj: obj as Record<string, unknown>, msg }) };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('Hooks actions', () => {
  test('run in ascending priority, equal priorities in registration order', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    const order: string[] = [];
    hooks.addAction('sale.recorded', () => void order.push('b10'));
    hooks.addAction('sale.recorded', () => void order.push('a5'), 5);
    hooks.addAction('sale.recorded', () => void order.push('c10'));
    hooks.addAction('sale.recorded', () => void order.push('d1'), 1);
    hooks.addAction('sale.recorded', () => void order.push('e20'), 20);
    hooks.addAction('sale.recorded', () => void order.push('f5'), 5);
    await hooks.doAction('sale.recorded');
    assert.deepEqual(order, ['d1', 'a5', 'f5', 'b10', 'c10', 'e20']);
  });

  test('pass the arguments and await async callbacks one after another', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    const seen: string[] = [];
    hooks.addAction('click.recorded', async (id: string, n: number) => {
      await tick();
      seen.push(`slow ${id} ${n}`);
    });
    hooks.addAction('click.recorded', (id: string) => void seen.push(`fast ${id}`));
    await hooks.doAction('click.recorded', 'c1', 2);
    assert.deepEqual(seen, ['slow c1 2', 'fast c1']);
  });

  test('a throwing callback (sync or async) is logged with hook and owner, and the rest still run', async () => {
    const log = recordingLog();
    const hooks = new Hooks<AnyHooks, AnyHooks>(log);
    const ran: string[] = [];
    hooks.addAction(
      'commission.created',
      () => {
        throw new Error('sync boom');
      },
      5,
      'bad-sync',
    );
    hooks.addAction(
      'commission.created',
      async () => {
        await tick();
        throw new Error('async boom');
      },
      6,
      'bad-async',
    );
    hooks.addAction('commission.created', () => void ran.push('good'), 7, 'good');
    await hooks.doAction('commission.created');
    assert.deepEqual(ran, ['good']);
    assert.equal(log.calls.length, 2);
    assert.deepEqual(
      log.calls.map((c) => [c.obj.hook, c.obj.owner, (c.obj.err as Error).message]),
      [
        ['commission.created', 'bad-sync', 'sync boom'],
        ['commission.created', 'bad-async', 'async boom'],
      ],
    );
  });

  test('an action with no callbacks resolves at once', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    assert.equal(hooks.has('nothing'), false);
    assert.equal(await hooks.doAction('nothing', 1, 2), undefined);
  });

  test('a callback registered while the hook runs waits for the next run', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    let late = 0;
    hooks.addAction('x', () => hooks.addAction('x', () => void late++));
    await hooks.doAction('x');
    assert.equal(late, 0);
    await hooks.doAction('x');
    assert.equal(late, 1);
  });
});

describe('Hooks filters', () => {
  test('chain the value through the filters in priority order with extra arguments', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    hooks.addFilter('commission.amount', (v: number, rate: number) => v * rate, 20);
    hooks.addFilter(
      'commission.amount',
      async (v: number) => {
        await tick();
        return v + 100;
      },
      10,
    );
    assert.equal(await hooks.applyFilters('commission.amount', 1000, 2), 2200);
  });

  test('a throwing filter is logged and skipped; the value from before it continues', async () => {
    const log = recordingLog();
    const hooks = new Hooks<AnyHooks, AnyHooks>(log);
    hooks.addFilter('sale.payouts', (v: string[]) => [...v, 'a'], 1, 'p1');
    hooks.addFilter(
      'sale.payouts',
      () => {
        throw new Error('filter boom');
      },
      2,
      'p2',
    );
    hooks.addFilter('sale.payouts', async () => Promise.reject(new Error('async filter boom')), 3, 'p3');
    hooks.addFilter('sale.payouts', (v: string[]) => [...v, 'b'], 4, 'p4');
    assert.deepEqual(await hooks.applyFilters('sale.payouts', ['start']), ['start', 'a', 'b']);
    assert.deepEqual(
      log.calls.map((c) => [c.obj.hook, c.obj.owner]),
      [
        ['sale.payouts', 'p2'],
        ['sale.payouts', 'p3'],
      ],
    );
  });

  test('a filter returning undefined is logged and the previous value kept', async () => {
    const log = recordingLog();
    const hooks = new Hooks<AnyHooks, AnyHooks>(log);
    // The forgotten `return` this guards against (plain JS plugins are not type-checked).
    hooks.addFilter('click.fraudCheck', (v: { ok: boolean }) => void v, 10, 'forgetful');
    hooks.addFilter('click.fraudCheck', (v: { ok: boolean }) => ({ ...v, checked: true }), 11);
    assert.deepEqual(await hooks.applyFilters('click.fraudCheck', { ok: true }), { ok: true, checked: true });
    assert.equal(log.calls.length, 1);
    assert.equal(log.calls[0]?.obj.owner, 'forgetful');
    assert.match(log.calls[0]?.msg ?? '', /undefined/);
  });

  test('a filter with no callbacks returns the value unchanged', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    const value = { a: 1 };
    assert.equal(await hooks.applyFilters('nothing', value), value);
  });
});

describe('Hooks owners', () => {
  test('removeOwner drops only that owner’s actions and filters', async () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    const ran: string[] = [];
    hooks.addAction('a', () => void ran.push('p1'), 10, 'p1');
    hooks.addAction('a', () => void ran.push('p2'), 10, 'p2');
    hooks.addAction('a', () => void ran.push('core'));
    hooks.addFilter('f', (v: number) => v + 1, 10, 'p1');
    hooks.addFilter('f', (v: number) => v * 10, 10, 'p2');
    assert.equal(hooks.count('a'), 3);
    assert.equal(hooks.count('f'), 2);

    hooks.removeOwner('p1');
    await hooks.doAction('a');
    assert.deepEqual(ran, ['p2', 'core']);
    assert.equal(await hooks.applyFilters('f', 1), 10);
    assert.equal(hooks.count('a'), 2);
    assert.equal(hooks.count('f'), 1);

    hooks.removeOwner('p2');
    assert.equal(hooks.has('f'), false);
    assert.equal(hooks.count('a'), 1);
  });

  test('forOwner tags everything a plugin adds, so it can be removed and is named in logs', async () => {
    const log = recordingLog();
    const hooks = new Hooks<AnyHooks, AnyHooks>(log);
    const scoped = hooks.forOwner('webhooks');
    scoped.addAction('sale.recorded', () => {
      throw new Error('nope');
    });
    // The scoped view is typed by the product's contract; this engine test feeds it numbers.
    scoped.addFilter('sale.payouts', ((v: number) => v + 1) as never, 5);
    await hooks.doAction('sale.recorded');
    assert.equal(log.calls[0]?.obj.owner, 'webhooks');
    assert.equal(await hooks.applyFilters('sale.payouts', 1), 2);
    hooks.removeOwner('webhooks');
    assert.equal(hooks.has('sale.recorded'), false);
    assert.equal(hooks.has('sale.payouts'), false);
  });

  test('rejects a callback that is not a function or a priority that is not a number', () => {
    const hooks = new Hooks<AnyHooks, AnyHooks>(recordingLog());
    assert.throws(() => hooks.addAction('a', 'nope' as unknown as () => void), TypeError);
    assert.throws(() => hooks.addFilter('f', (v: number) => v, Number.NaN), TypeError);
    assert.equal(hooks.has('a') || hooks.has('f'), false);
  });
});

describe('the hook contract', () => {
  test('a hook name or payload the contract does not know fails the type check (npm run typecheck)', async () => {
    const hooks = new Hooks(recordingLog());
    // @ts-expect-error: there is no such hook
    await hooks.doAction('sale.recordedd');
    // @ts-expect-error: `sale.payouts` filters a list of payouts, not a number
    hooks.addFilter('sale.payouts', (v: number) => v + 1);
    assert.equal(hooks.count('sale.recordedd' as never), 0);
    assert.equal(hooks.count('sale.payouts'), 1);
  });
});
