/**
 * Dates as PowerShell sends them: ISO 8601 with up to 7 fractional digits and an offset (PowerShell 7's
 * ConvertTo-Json), or Windows PowerShell 5.1's `{"value": "/Date(ms)/", "DisplayHint": 2, "DateTime": "..."}`.
 */
export class InvalidDate {
  constructor(readonly reason: string) {}
}

export const NEVER = 'never';
export type Expiration = Date | typeof NEVER;

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?(Z|[+ -]\d{2}:?\d{2})?$/i;
const MS_DATE = /^\/Date\((-?\d{1,16})(?:[+-]\d{4})?\)\/$/;
const PS51_KEYS = new Set(['value', 'displayhint', 'datetime']);

/** What PostgreSQL's timestamptz and every client can show: the years 1 to 9999 (UTC). */
export const EARLIEST = new Date('0001-01-01T00:00:00Z').getTime();
export const LATEST = new Date('9999-12-31T23:59:59.999Z').getTime();

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

function quote(text: string): string {
  return `"${text.slice(0, 40)}"`;
}

/** The one check every parsed date passes: a real instant between the years 1 and 9999. */
function inRange(date: Date, text: string): Date | InvalidDate {
  const time = date.getTime();
  if (Number.isNaN(time)) return new InvalidDate(`${quote(text)} is not a valid date`);
  if (time < EARLIEST || time > LATEST) return new InvalidDate(`${quote(text)} is outside the years 1 to 9999`);
  return date;
}

function fromIso(text: string): Date | InvalidDate {
  const match = ISO_8601.exec(text);
  if (!match) return new InvalidDate(`${quote(text)} is not an ISO 8601 date`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  // Checked field by field: Date would roll 2030-02-30 over to March 2 and 24:00 over to the next day.
  if (month < 1 || month > 12) return new InvalidDate(`${quote(text)} has no month ${mo}`);
  if (day < 1 || day > daysInMonth(year, month)) return new InvalidDate(`${quote(text)} is not a date: ${y}-${mo} has no day ${d}`);
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return new InvalidDate(`${quote(text)} is not a time of day (00:00:00 to 23:59:59)`);
  // A "+" in an unencoded query string arrives as a space (?since=2026-01-01T00:00:00+01:00).
  const signed = zone.startsWith(' ') ? `+${zone.slice(1)}` : zone;
  const offset = signed.toUpperCase() === 'Z' ? 'Z' : signed.length === 5 ? `${signed.slice(0, 3)}:${signed.slice(3)}` : signed;
  if (offset !== 'Z' && (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4, 6)) > 59)) return new InvalidDate(`${quote(text)} has no valid UTC offset`);
  const millis = (fraction + '000').slice(0, 3);
  return inRange(new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${millis}${offset}`), text);
}

function fromMsDate(text: string): Date | InvalidDate | undefined {
  const match = MS_DATE.exec(text);
  if (!match) return undefined;
  return inRange(new Date(Number(match[1])), text);
}

/** Parses a date (or "never", when allowed) from a request; a description of the problem otherwise. */
export function parseFlexibleDate(value: unknown, allowNever: boolean): Expiration | InvalidDate {
  if (value instanceof Date) return value;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text.toLowerCase() === NEVER) return allowNever ? NEVER : new InvalidDate('"never" is not allowed here');
    return fromMsDate(text) ?? fromIso(text);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    const unknown = entries.find(([key]) => !PS51_KEYS.has(key.toLowerCase()));
    if (unknown) return new InvalidDate(`a date object has only value, DisplayHint and DateTime, not ${unknown[0]}`);
    const inner = entries.find(([key]) => key.toLowerCase() === 'value')?.[1];
    if (typeof inner !== 'string') return new InvalidDate('a date object needs a "value" like "/Date(1633646998000)/"');
    return fromMsDate(inner.trim()) ?? fromIso(inner.trim());
  }
  return new InvalidDate('expected an ISO 8601 date string');
}
