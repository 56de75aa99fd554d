import { decimalText } from '../../domain/money.js';
import type { ConversionEntry } from '../../store/conversions.js';

/** A postback conversion as JSON: amounts as decimals (units are 1/10,000). */
export const conversionJson = (c: ConversionEntry) => ({
  ...c,
  revenue: Number(decimalText(c.revenue)),
  revenueBase: Number(decimalText(c.revenueBase)),
  cost: Number(decimalText(c.cost)),
});

/** One CSV cell of a conversion: amounts as decimal text, the rest as they are. */
export const conversionCell = (c: ConversionEntry, column: keyof ConversionEntry) => {
  if (column === 'revenue' || column === 'revenueBase' || column === 'cost') return decimalText(c[column]);
  return c[column];
};
