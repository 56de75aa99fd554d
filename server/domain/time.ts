/** Report days in the merchant's time zone (SPEC §1): "YYYY-MM-DD". */
export const dayIn = byZoneAndMinute(
  (timeZone) => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
);

/**
 * A date part in a time zone, formatted by Intl once per zone and minute: every zone's offset is a
 * whole number of minutes, so the answer is the same all minute long, and the hot paths ask for
 * "now" many times a second. One formatter and the last minute's answer are kept per zone.
 */
export function byZoneAndMinute(formatter: (timeZone: string) => Intl.DateTimeFormat) {
  const zones = new Map<string, { f: Intl.DateTimeFormat; minute: number; value: string }>();
  return (ms: number, timeZone: string): string => {
    const minute = Math.floor(ms / 60_000);
    let zone = zones.get(timeZone);
    if (!zone) zones.set(timeZone, (zone = { f: formatter(timeZone), minute: NaN, value: '' }));
    if (zone.minute !== minute) {
      zone.value = zone.f.format(ms);
      zone.minute = minute;
    }
    return zone.value;
  };
}
