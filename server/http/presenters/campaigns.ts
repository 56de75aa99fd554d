import { fromUnits } from '../../domain/money.js';
import type { Campaign } from '../../store/campaigns.js';

/** A campaign as JSON: its traffic cost and traffic loss as decimal numbers (SPEC §1, §7.1). */
export const campaignJson = <C extends Campaign>(c: C) => ({
  ...c,
  costValue: fromUnits(c.costValue),
  trafficLoss: fromUnits(c.trafficLoss),
});
