/** The lifetimes the grant dialog offers, and what each sends to POST /api/v1/apptoken/grant. */

export interface LifetimePolicy {
  defaultLifetimeDays: number;
  /** null: no maximum, so "Never" is allowed. */
  maxLifetimeDays: number | null;
}

export const CUSTOM_DATE = 'Custom date';
export const NEVER = 'Never';

const PRESETS: Array<{ label: string; days: number }> = [
  { label: '30 days', days: 30 },
  { label: '90 days', days: 90 },
  { label: '1 year', days: 365 },
];

/** The choices the policy allows, in order; a preset longer than the maximum is left out. */
export function expirationChoices(policy: LifetimePolicy | undefined): string[] {
  const max = policy?.maxLifetimeDays ?? null;
  const presets = PRESETS.filter((preset) => max === null || preset.days <= max).map((preset) => preset.label);
  return [...presets, ...(policy && max === null ? [NEVER] : []), CUSTOM_DATE];
}

/** The choice a dialog opens with: 90 days when allowed, else the longest preset allowed. */
export function defaultExpirationChoice(policy: LifetimePolicy | undefined): string {
  const choices = expirationChoices(policy);
  return choices.includes('90 days') ? '90 days' : choices[0];
}

/** `YYYY-MM-DD` of a date in the reader's time zone (what `<input type="date">` takes). */
export function localDateInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * The body fields for a choice: `lifespanDays`, `expiration: "never"`, or an ISO instant for a custom date
 * (the end of that day in the reader's time zone). Returns an error message instead when the date is unusable.
 */
export function expirationRequest(choice: string, customDate: string, now = new Date()): { lifespanDays: number } | { expiration: string } | { error: string } {
  const preset = PRESETS.find((p) => p.label === choice);
  if (preset) return { lifespanDays: preset.days };
  if (choice === NEVER) return { expiration: 'never' };
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(customDate);
  if (!match) return { error: 'Choose an expiration date.' };
  const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59);
  if (Number.isNaN(end.getTime()) || end.getTime() <= now.getTime()) return { error: 'The expiration date must be in the future.' };
  return { expiration: end.toISOString() };
}
