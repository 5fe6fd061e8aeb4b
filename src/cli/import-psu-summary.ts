import { REASON_LABELS, type FailureReason, type RefusalReason } from './import-psu-outcome.js';
import type { ImportFileFormat } from './psu-import-file.js';

/** The end of a bulk import: counts, and each refusal and failure grouped by reason with the entries it hit. */

export type EntryOutcome = 'migrated' | 'already-there' | 'refused' | 'failed' | 'not-attempted';

export interface EntryResult {
  entry: number;
  line: number;
  identity?: string;
  fingerprint?: string;
  outcome: EntryOutcome;
  reason?: RefusalReason | FailureReason;
  /** The API's message (or the local reason); never the token. */
  message?: string;
  status?: number;
  code?: string;
  /** The id of the token record a migration created. */
  tokenId?: number;
  attempts?: number;
}

export interface EntryRef {
  entry: number;
  line: number;
  identity?: string;
  fingerprint?: string;
  message?: string;
}

export interface ReasonGroup {
  reason: RefusalReason | FailureReason;
  label: string;
  count: number;
  entries: EntryRef[];
}

export interface ImportSummary {
  file: string;
  format: ImportFileFormat | null;
  encoding: string | null;
  total: number;
  migrated: number;
  alreadyThere: number;
  refused: number;
  failed: number;
  /** Entries never sent because the run stopped (the server refused the caller). */
  notAttempted: number;
  refusals: ReasonGroup[];
  failures: ReasonGroup[];
  /** Why the run stopped before the end: the file could not be read, or the server refused the caller (401, 403...). */
  aborted: { status?: number; code?: string; message: string } | null;
  /** Every entry is migrated or already there (the exit code is 0 exactly then). */
  ok: boolean;
  results: EntryResult[];
}

const FORMAT_LABELS: Record<ImportFileFormat, string> = {
  'json-array': 'JSON array',
  'json-object': 'one JSON object',
  'json-lines': 'JSON lines',
  'token-list': 'list of tokens',
  'mixed-lines': 'JSON lines and tokens',
};

function groups(results: EntryResult[], outcome: EntryOutcome): ReasonGroup[] {
  const byReason = new Map<RefusalReason | FailureReason, EntryRef[]>();
  for (const result of results) {
    if (result.outcome !== outcome || !result.reason) continue;
    const refs = byReason.get(result.reason) ?? [];
    refs.push({ entry: result.entry, line: result.line, identity: result.identity, fingerprint: result.fingerprint, message: result.message });
    byReason.set(result.reason, refs);
  }
  return [...byReason.entries()]
    .map(([reason, entries]) => ({ reason, label: REASON_LABELS[reason], count: entries.length, entries: entries.sort((a, b) => a.entry - b.entry) }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

export function summarize(input: {
  file: string;
  format: ImportFileFormat | null;
  encoding: string | null;
  results: EntryResult[];
  aborted: ImportSummary['aborted'];
}): ImportSummary {
  const results = [...input.results].sort((a, b) => a.entry - b.entry);
  const count = (outcome: EntryOutcome) => results.filter((r) => r.outcome === outcome).length;
  const summary = {
    file: input.file,
    format: input.format,
    encoding: input.encoding,
    total: results.length,
    migrated: count('migrated'),
    alreadyThere: count('already-there'),
    refused: count('refused'),
    failed: count('failed'),
    notAttempted: count('not-attempted'),
    refusals: groups(results, 'refused'),
    failures: groups(results, 'failed'),
    aborted: input.aborted,
    ok: false,
    results,
  };
  summary.ok = input.aborted === null && results.length > 0 && summary.migrated + summary.alreadyThere === results.length;
  return summary;
}

/** At most this many entries are listed under one reason in the text summary (`--json` has them all). */
const LISTED = 20;

function refText(ref: EntryRef): string {
  const who = [ref.identity, ref.fingerprint ? `#${ref.fingerprint}` : undefined].filter(Boolean).join(' ');
  // One line each, whatever the server's message or the file's values hold (the printer makes the rest safe).
  const detail = ref.message ? `: ${ref.message.replace(/^cannot migrate: /, '').replace(/[\r\n]+/g, ' ')}` : '';
  return `entry ${ref.entry} (line ${ref.line})${who ? ` ${who}` : ''}${detail}`;
}

function groupLines(group: ReasonGroup): string[] {
  const lines = [`    ${group.label}: ${group.count}`];
  for (const ref of group.entries.slice(0, LISTED)) lines.push(`      ${refText(ref)}`);
  if (group.count > LISTED) lines.push(`      … and ${group.count - LISTED} more (--json lists them all)`);
  return lines;
}

/** The summary for people, as printed on stdout without `--json`. */
export function renderSummary(summary: ImportSummary): string {
  const lines: string[] = [];
  const format = summary.format ? `${FORMAT_LABELS[summary.format]}, ` : '';
  lines.push(`import-psu ${summary.file} (${format}${summary.total} ${summary.total === 1 ? 'entry' : 'entries'})`);
  if (summary.total > 0) {
    const width = 16;
    lines.push(`  ${'migrated'.padEnd(width)}${summary.migrated}`);
    lines.push(`  ${'already there'.padEnd(width)}${summary.alreadyThere}`);
    lines.push(`  ${'refused'.padEnd(width)}${summary.refused}`);
    for (const group of summary.refusals) lines.push(...groupLines(group));
    lines.push(`  ${'failed'.padEnd(width)}${summary.failed}`);
    for (const group of summary.failures) lines.push(...groupLines(group));
    if (summary.notAttempted > 0) lines.push(`  ${'not attempted'.padEnd(width)}${summary.notAttempted}`);
  }
  if (summary.aborted) {
    const { status, code, message } = summary.aborted;
    lines.push(`Stopped: ${[status, code].filter((x) => x !== undefined).join(' ')}${status !== undefined || code ? ': ' : ''}${message}`);
  }
  if (summary.ok) {
    lines.push('Done: every entry is migrated or already there.');
  } else if (summary.total > 0) {
    const hints: string[] = [];
    if (summary.refusals.some((g) => g.reason === 'unknown-role')) hints.push('create the missing roles here');
    if (summary.failed > 0 || summary.notAttempted > 0) hints.push('fix what stopped the failed entries');
    const again = hints.length > 0 ? `: ${hints.join(' and ')}, then run the same command again (entries already there are skipped)` : '';
    lines.push(`Not every entry went in${again}.`);
  }
  return `${lines.join('\n')}\n`;
}
