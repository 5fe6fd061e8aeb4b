import { InvalidArgumentError } from 'commander';

/** Option and argument value parsers: a bad value is a usage error (exit 2) with commander's message. */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a whole number of at least 1');
  return Number(value);
}

export function nonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return Number(value);
}

/** Seconds to wait for a server: 1 to 86400. */
export function timeoutSeconds(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 86_400) throw new InvalidArgumentError('expected a whole number of seconds from 1 to 86400');
  return Number(value);
}

/**
 * The server's limits (src/app-token/dto/app-token.dto.ts), checked here so an out-of-range value is a usage
 * error (exit 2) before anything is sent; parse.spec.ts fails if they drift apart.
 */
export const LIMITS = { lifespanDays: 36_500, graceSeconds: 604_800, filterDays: 36_500 } as const;

/** A whole number from min to max. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return Number(value);
  };
}

export const lifespanDays = integerIn(1, LIMITS.lifespanDays);
export const graceSeconds = integerIn(0, LIMITS.graceSeconds);
export const filterDays = integerIn(1, LIMITS.filterDays);

/**
 * An ISO 8601 date or date-time (2027-06-30, 2027-06-30T12:00:00Z) that exists on the calendar (Date.parse takes
 * 2027-02-30 as March 2) and is in the future; passed on as given.
 */
export function isoDate(value: string, now = Date.now()): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(value);
  const expected = 'expected an ISO 8601 date, such as 2027-06-30 or 2027-06-30T12:00:00Z';
  if (!match || Number.isNaN(Date.parse(value))) throw new InvalidArgumentError(expected);
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const realDay = calendar.getUTCFullYear() === year && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
  const offset = match[7];
  const realOffset = offset === undefined || offset === 'Z' || (Number(offset.slice(1, 3)) <= 23 && Number(offset.slice(-2)) <= 59);
  if (!realDay || hour > 23 || minute > 59 || second > 59 || !realOffset) throw new InvalidArgumentError(`${value} is not a date on the calendar (${expected})`);
  if (Date.parse(value) <= now) throw new InvalidArgumentError(`${value} is not in the future`);
  return value;
}

/** Repeatable and comma-separated: `--role A --role B,C` gives [A, B, C]. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  if (items.length === 0) throw new InvalidArgumentError('expected a name');
  return [...(previous ?? []), ...items];
}

export function httpMethod(value: string): string {
  if (value === '*') return value;
  if (!/^[A-Za-z]{1,20}$/.test(value)) throw new InvalidArgumentError('expected an HTTP method such as GET or POST');
  return value.toUpperCase();
}

export function requestPath(value: string): string {
  if (!value.startsWith('/')) throw new InvalidArgumentError('expected a path starting with "/", such as /payroll/2026');
  return value;
}
