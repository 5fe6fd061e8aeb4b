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

const DAY_MS = 86_400_000;

/**
 * What a dialog opens with: the server's default lifetime (GET apptoken/policy's defaultLifetimeDays) as its
 * preset when one matches, else as a custom date that many days ahead (within the maximum). Before the policy
 * is known, the first choice.
 */
export function defaultExpiration(policy: LifetimePolicy | undefined, now = new Date()): { choice: string; customDate: string } {
  const choices = expirationChoices(policy);
  if (!policy) return { choice: choices[0], customDate: '' };
  const preset = PRESETS.find((p) => p.days === policy.defaultLifetimeDays);
  if (preset && choices.includes(preset.label)) return { choice: preset.label, customDate: '' };
  // A custom date's token lives to the end of that day: one day less than the maximum stays inside it.
  const days = policy.maxLifetimeDays === null ? policy.defaultLifetimeDays : Math.min(policy.defaultLifetimeDays, policy.maxLifetimeDays - 1);
  return { choice: CUSTOM_DATE, customDate: localDateInput(new Date(now.getTime() + Math.max(days, 0) * DAY_MS)) };
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
