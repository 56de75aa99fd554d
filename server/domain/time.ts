/** Report days in the merchant's time zone (SPEC §1): "YYYY-MM-DD". */
const formatters = new Map<string, Intl.DateTimeFormat>();

const recent = new Map<string, string>();

export function dayIn(ms: number, timeZone: string): string {
  // Hot paths ask for "now" many times a second: remember the answer per zone and minute.
  const key = `${timeZone}|${Math.floor(ms / 60_000)}`;
  const hit = recent.get(key);
  if (hit) return hit;
  const day = format(ms, timeZone);
  if (recent.size > 1000) recent.clear();
  recent.set(key, day);
  return day;
}

function format(ms: number, timeZone: string): string {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f.format(ms);
}
