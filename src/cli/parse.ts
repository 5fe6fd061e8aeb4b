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

/** An ISO 8601 date or date-time (2027-06-30, 2027-06-30T12:00:00Z), passed on as given. */
export function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidArgumentError('expected an ISO 8601 date, such as 2027-06-30 or 2027-06-30T12:00:00Z');
  }
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
