const day = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });

/** A date without its time, for the table's narrow date columns (the cell's title keeps the exact instant). */
export function formatDay(iso: string | null | undefined, empty = '—'): string {
  if (!iso) return empty;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : day.format(date);
}
