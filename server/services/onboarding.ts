import type { Knex } from 'knex';
import type { SnippetSeen, SnippetSightings } from './snippet-seen.js';
import { firstEvents } from '../store/dashboard.js';

export interface ChecklistStep {
  key: 'snippet' | 'click' | 'sale' | 'approved';
  label: string;
  done: boolean;
  /** Where to go to do it. */
  href: string;
  /** What happened, when it is done. */
  detail: string | null;
}

/**
 * The dashboard's getting-started checklist (SPEC §13): each step ticks itself from what really
 * happened — the snippet loaded from the store's origin, the first click, the first sale, the
 * first approved commission. Four indexed one-row reads.
 */
export async function gettingStarted(
  db: Knex,
  seen: SnippetSeen,
  siteUrl: string | null,
): Promise<{ steps: ChecklistStep[]; done: boolean; sightings: SnippetSightings }> {
  const [sightings, { click, sale, approved }] = await Promise.all([seen.current(), firstEvents(db)]);
  const steps: ChecklistStep[] = [
    {
      key: 'snippet',
      label: siteUrl
        ? 'Put the snippet on your store'
        : 'Set your store’s URL in Settings, then put the snippet on your store',
      done: Boolean(sightings.store),
      href: siteUrl ? '/admin/integration' : '/admin/settings',
      detail: sightings.store ? `loaded from ${sightings.store.origin}` : null,
    },
    { key: 'click', label: 'Get the first click', done: click, href: '/admin/affiliates', detail: null },
    { key: 'sale', label: 'Record the first sale', done: sale, href: '/admin/integration', detail: null },
    {
      key: 'approved',
      label: 'Approve the first commission',
      done: approved,
      href: '/admin/commissions?status=pending',
      detail: null,
    },
  ];
  return { steps, done: steps.every((s) => s.done), sightings };
}
