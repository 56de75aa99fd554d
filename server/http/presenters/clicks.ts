import { fromUnits } from '../../domain/money.js';
import type { Click } from '../../store/clicks.js';
import type { Page } from '../../store/rows.js';

/** A click as JSON: a campaign-URL click's cost as a decimal number (SPEC §1, §15 Clicks log). */
export const clickJson = (c: Click) =>
  c.traffic ? { ...c, traffic: { ...c.traffic, cost: fromUnits(c.traffic.cost) } } : c;

export const clickPageJson = (page: Page<Click>) => ({ ...page, data: page.data.map(clickJson) });
