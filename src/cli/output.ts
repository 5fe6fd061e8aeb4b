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

/**
 * Control characters (C0 with ESC, CR, BEL, tab and line feed; DEL; C1) and bidi overrides (U+202A–U+202E,
 * U+2066–U+2069): text the server (or a file) gives could otherwise move the cursor, rewrite what is shown,
 * set the window title or reverse what is read. Every line of text output passes through {@link terminalSafe}.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const UNSAFE_IN_JSON = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line as it may reach a terminal: every unsafe character replaced by "?". */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, '?');
}

/** Text of one or more lines (split on \n, the only break the CLI itself writes), each line made safe. */
export function safeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

/**
 * JSON for scripts. JSON.stringify escapes C0 controls but not DEL, C1 (U+009B is a CSI to some terminals) or
 * bidi overrides: those are written as \uXXXX too, which parses to the same value (C0 needs nothing: the
 * only raw ones JSON.stringify writes are its own line breaks).
 */
export function printJson(value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(UNSAFE_IN_JSON, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  process.stdout.write(`${text}\n`);
}

/** One line of a result on stdout; a server's text in it cannot break the line or reach the terminal raw. */
export function printLine(text = ''): void {
  process.stdout.write(`${terminalSafe(text)}\n`);
}

/** A note for the person at the terminal (stderr): never mixed into what a script reads. */
export function note(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`);
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
  // Measured and cut after sanitising, so the widths are those of what the terminal shows.
  const cells = rows.map((row) => columns.map((column) => cut(terminalSafe(oneLine(String(column.value(row) ?? ''))), column.max ?? 40)));
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
  process.stdout.write(`${formatTable(rows, columns)}\n`);
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
