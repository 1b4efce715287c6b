// Times as the project reads them from people and files: ISO 8601 dates and times, UTC unless they say otherwise.
// The archive's times, the exchange's and the engine's are all UTC; Date.parse reads a date-time with no zone as the
// machine's local time, so a signal file's 07:00 became 22:00 the day before on a laptop in Tokyo. Taken: a date
// (midnight UTC), or a date and time with "T" or a space between (as pandas writes them), seconds and a fraction
// optional (cut to ms), and a zone "Z", "±HH:MM" or "±HHMM" optional (none = UTC). A date or time that does not exist
// (February 30th, 24:00) is refused, not rolled over as Date.parse rolls it.

const isoTime = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Ms since the epoch of an ISO 8601 date or date-time (see above), or null when it is not one. */
export function parseUtcTime(text: string): number | null {
  const m = isoTime.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  const atMs = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const at = new Date(atMs);
  const exists =
    at.getUTCFullYear() === year &&
    at.getUTCMonth() === month - 1 &&
    at.getUTCDate() === day &&
    at.getUTCHours() === hour &&
    at.getUTCMinutes() === minute &&
    at.getUTCSeconds() === second;
  if (!exists) return null;
  const zone = m[8];
  if (zone === undefined || zone.toUpperCase() === 'Z') return atMs;
  const digits = zone.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = Number(digits.slice(2));
  if (offsetHours > 23 || offsetMinutes > 59) return null;
  // 11:30+01:00 is 10:30 UTC.
  return atMs - (zone.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
}
