/**
 * Dates as PowerShell sends them: ISO 8601 with up to 7 fractional digits and an offset (PowerShell 7's
 * ConvertTo-Json), or Windows PowerShell 5.1's `{"value": "/Date(ms)/", "DisplayHint": 2, "DateTime": "..."}`.
 */
export class InvalidDate {
  constructor(readonly reason: string) {}
}

export const NEVER = 'never';
export type Expiration = Date | typeof NEVER;

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,7}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const MS_DATE = /^\/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\/$/;
const PS51_KEYS = new Set(['value', 'displayhint', 'datetime']);

function fromIso(text: string): Date | InvalidDate {
  const match = ISO_8601.exec(text);
  if (!match) return new InvalidDate(`"${text.slice(0, 40)}" is not an ISO 8601 date`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = 'Z'] = match;
  const millis = (fraction + '000').slice(0, 3);
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${millis}${offset}`);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() > 9999) return new InvalidDate(`"${text.slice(0, 40)}" is not a valid date`);
  // Reject 2026-02-30 and the like, which Date would roll over.
  if (offset === 'Z' && (date.getUTCMonth() + 1 !== Number(mo) || date.getUTCDate() !== Number(d))) {
    return new InvalidDate(`"${text.slice(0, 40)}" is not a valid date`);
  }
  return date;
}

function fromMsDate(text: string): Date | InvalidDate | undefined {
  const match = MS_DATE.exec(text);
  if (!match) return undefined;
  const date = new Date(Number(match[1]));
  return Number.isNaN(date.getTime()) ? new InvalidDate(`"${text}" is not a valid date`) : date;
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
