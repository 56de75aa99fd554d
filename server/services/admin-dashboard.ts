import type { Knex } from 'knex';
import { dashboardCounts, dashboardStats } from './dashboard.js';
import { gettingStarted } from './onboarding.js';
import type { SnippetSeen } from './snippet-seen.js';

/** The admin dashboard's figures (SPEC §13): counts, the last days' stats, and the getting-started list. */
export class AdminDashboard {
  constructor(
    private readonly db: Knex,
    private readonly snippetSeen: SnippetSeen,
  ) {}

  stats(now: number, timeZone: string, currency: string): ReturnType<typeof dashboardStats> {
    return dashboardStats(this.db, now, timeZone, currency);
  }

  counts(): ReturnType<typeof dashboardCounts> {
    return dashboardCounts(this.db);
  }

  checklist(siteUrl: string | null): ReturnType<typeof gettingStarted> {
    return gettingStarted(this.db, this.snippetSeen, siteUrl);
  }
}
