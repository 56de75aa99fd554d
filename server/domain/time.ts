/** Report days in the merchant's time zone (SPEC §1): "YYYY-MM-DD". */
const formatters = new Map<string, Intl.DateTimeFormat>();

export function dayIn(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(ms);
}
