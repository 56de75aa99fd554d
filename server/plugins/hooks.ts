import type { Logger, ScopedHooks } from './types.js';
import type { ActionFn, FilterFn, HookActions, HookFilters, HookMap, Tail } from './contract.js';

type HookLogger = Pick<Logger, 'error'>;

interface Entry<F> {
  fn: F;
  priority: number;
  owner: string | undefined;
}

type AnyAction = (...args: unknown[]) => unknown;
type AnyFilter = (value: unknown, ...args: unknown[]) => unknown;

// Shared so that firing a hook nobody listens to allocates nothing.
const DONE: Promise<void> = Promise.resolve();

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * WordPress-style actions and filters (SPEC §8). Callbacks run in ascending priority, equal
 * priorities in registration order. A callback that throws is logged and skipped: a plugin must
 * never break tracking.
 */
export class Hooks<A extends HookMap<A> = HookActions, F extends HookMap<F> = HookFilters> {
  // Lists are replaced, never mutated, so a run in progress is unaffected by (un)registration
  // and the hot path iterates without copying.
  private readonly actions = new Map<string, readonly Entry<AnyAction>[]>();
  private readonly filters = new Map<string, readonly Entry<AnyFilter>[]>();

  constructor(private readonly log: HookLogger) {}

  addAction<K extends keyof A & string>(name: K, fn: ActionFn<A, K>, priority = 10, owner?: string): void {
    add(this.actions, name, fn as AnyAction, priority, owner);
  }

  addFilter<K extends keyof F & string>(name: K, fn: FilterFn<F, K>, priority = 10, owner?: string): void {
    add(this.filters, name, fn as AnyFilter, priority, owner);
  }

  doAction<K extends keyof A & string>(name: K, ...args: A[K]): Promise<void> {
    const list = this.actions.get(name);
    return list === undefined ? DONE : this.runActions(name, list, args);
  }

  applyFilters<K extends keyof F & string>(name: K, value: F[K][0], ...args: Tail<F[K]>): Promise<F[K][0]> {
    const list = this.filters.get(name);
    return list === undefined ? Promise.resolve(value) : this.runFilters(name, list, value, args);
  }

  /** Drops every callback a plugin registered, e.g. when it is deactivated. */
  removeOwner(owner: string): void {
    for (const map of [this.actions, this.filters] as Map<string, readonly Entry<unknown>[]>[]) {
      for (const [name, list] of map) {
        const kept = list.filter((e) => e.owner !== owner);
        if (kept.length === list.length) continue;
        if (kept.length === 0) map.delete(name);
        else map.set(name, kept);
      }
    }
  }

  has(name: string): boolean {
    return this.count(name) > 0;
  }

  count(name: string): number {
    return (this.actions.get(name)?.length ?? 0) + (this.filters.get(name)?.length ?? 0);
  }

  /** The view handed to a plugin's `register`: everything it adds is tagged with `owner`. */
  forOwner(owner: string): ScopedHooks {
    return {
      // The scoped view is typed by the contract; the engine's own maps are the same ones.
      addAction: (name, fn, priority = 10) => this.addAction(name as never, fn as never, priority, owner),
      addFilter: (name, fn, priority = 10) => this.addFilter(name as never, fn as never, priority, owner),
    };
  }

  private async runActions(name: string, list: readonly Entry<AnyAction>[], args: unknown[]): Promise<void> {
    for (const e of list) {
      try {
        const result = e.fn(...args);
        if (isThenable(result)) await result;
      } catch (err) {
        this.log.error({ err, hook: name, owner: e.owner }, 'action callback failed; skipped');
      }
    }
  }

  private async runFilters<T>(name: string, list: readonly Entry<AnyFilter>[], value: T, args: unknown[]): Promise<T> {
    let current = value;
    for (const e of list) {
      try {
        let next = e.fn(current, ...args);
        if (isThenable(next)) next = await next;
        if (next === undefined && current !== undefined) {
          // Almost always a forgotten `return`; passing undefined on would break the caller.
          this.log.error({ hook: name, owner: e.owner }, 'filter returned undefined; previous value kept');
          continue;
        }
        current = next as T;
      } catch (err) {
        this.log.error({ err, hook: name, owner: e.owner }, 'filter callback failed; skipped');
      }
    }
    return current;
  }
}

function add<F>(map: Map<string, readonly Entry<F>[]>, name: string, fn: F, priority: number, owner?: string): void {
  // Plugins from PLUGINS_DIR are plain JS, so check what the types cannot.
  if (typeof fn !== 'function') throw new TypeError(`hook ${name}: callback must be a function`);
  if (!Number.isFinite(priority)) throw new TypeError(`hook ${name}: priority must be a finite number`);
  const list = map.get(name) ?? [];
  // After the last entry of the same or lower priority, so equal priorities keep registration order.
  let at = list.length;
  while (at > 0 && list[at - 1]!.priority > priority) at--;
  map.set(name, [...list.slice(0, at), { fn, priority, owner }, ...list.slice(at)]);
}
