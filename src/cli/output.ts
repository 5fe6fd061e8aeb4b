/**
 * What commands print: JSON for scripts (`--json`), otherwise short tables that fit an 80-column terminal.
 * Results go to stdout, messages and prompts to stderr, so `$(apptoken ...)` and pipes get only the result.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** The most characters this column takes; longer values are cut with "…". */
  max?: number;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** A note for the person at the terminal (stderr): never mixed into what a script reads. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
}

/** The width tables fit: the terminal's, or 80 columns when stdout is not a terminal. */
export function tableWidth(): number {
  return process.stdout.isTTY && process.stdout.columns ? Math.max(40, process.stdout.columns) : 80;
}

/**
 * Columns padded to their widest value (each up to its max); the last one, not padded, gets what is left of
 * `width` (at least 10 characters), so a row fits the terminal.
 */
export function formatTable<T>(rows: readonly T[], columns: readonly Column<T>[], width = tableWidth()): string {
  const cells = rows.map((row) => columns.map((column) => cut(oneLine(column.value(row)), column.max ?? 40)));
  const widths = columns.map((column, i) => Math.max(column.header.length, ...cells.map((line) => line[i].length)));
  const last = columns.length - 1;
  const used = widths.slice(0, last).reduce((sum, w) => sum + w + 2, 0);
  const room = Math.max(10, width - used);
  const render = (line: string[]) =>
    line
      .map((cell, i) => (i === last ? cut(cell, room) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...cells.map(render)].join('\n');
}

export function printTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty = '(none)'): void {
  if (rows.length === 0) {
    note(empty);
    return;
  }
  printLine(formatTable(rows, columns));
}

/** Key: value lines for one record. */
export function printFields(fields: ReadonlyArray<[string, string]>): void {
  const width = Math.max(...fields.map(([key]) => key.length));
  for (const [key, value] of fields) printLine(`${`${key}:`.padEnd(width + 2)}${value}`);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ');
}

/** A date as YYYY-MM-DD HH:MM (UTC), or the fallback for null. */
export function shortDate(value: string | null | undefined, fallback = '-'): string {
  if (!value) return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return date.toISOString().slice(0, 16).replace('T', ' ');
}
