import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { outcomeOf, REASON_LABELS, type FailureReason, type Outcome } from './import-psu-outcome.js';
import { renderSummary, summarize, type EntryResult, type ImportSummary } from './import-psu-summary.js';
import { MAX_ANSWER_BYTES, readCapped } from './api-client.js';
import { ProgressBar } from './progress-bar.js';
import { parseImportFile, type ImportEntry, type MigrationBody } from './psu-import-file.js';
import { safeLines, terminalSafe } from './output.js';

/**
 * `apptoken import-psu FILE`: migrates PSU app tokens in bulk through `POST /api/v1/apptoken`, a few at a
 * time, retrying what the network or the server failed, and ends with a summary. Safe to run again: a token
 * already stored here answers 409 and counts as "already there". Never prints a token: entries are named by
 * number, line, identity and a short SHA-256 fingerprint.
 */

export const DEFAULT_CONCURRENCY = 4;
export const MAX_CONCURRENCY = 16;
/** Waits before the second and third try of a request the network or a 5xx/429 failed. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 2000];
export const DEFAULT_TIMEOUT_MS = 30_000;
/** After this many entries in a row failed without any answer from the server, the rest is not tried. */
const GIVE_UP_AFTER_FAILURES = 3;

export interface ImportPsuOptions {
  /** The server, e.g. http://localhost:5000 (APPTOKEN_URL); a path after the host is kept. */
  baseUrl: string;
  /** Sent with every request: `{ authorization: 'Bearer …' }`, or `{ cookie: 'apptoken_session=…' }`. */
  headers: Record<string, string>;
  /** The file to read; `-` reads standard input. */
  file: string;
  /** Requests in flight at once, 1 to 16; default 4. */
  concurrency?: number;
  /** Print the summary as JSON on stdout instead of text. */
  json?: boolean;
  stdout: Writable;
  stderr: Writable;
  /** Whether stderr is a terminal: the progress bar is drawn only then. */
  isTTY: boolean;
  stdin?: Readable;
  retryDelaysMs?: readonly number[];
  timeoutMs?: number;
}

export interface ImportPsuResult {
  exitCode: 0 | 1;
  summary: ImportSummary;
}

/** `--concurrency N` checked: the number, or what is wrong with it (a usage error, exit code 2). */
export function parseConcurrency(text: string): { ok: true; value: number } | { ok: false; message: string } {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(value) || value < 1 || value > MAX_CONCURRENCY) {
    return { ok: false, message: `--concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}` };
  }
  return { ok: true, value };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** A server message made safe to print: no token in it, no control characters, not endless. */
function cleanMessage(message: string, token: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = message.split(token).join('[token]').replace(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, '?');
  return clean.length > 300 ? `${clean.slice(0, 299)}…` : clean;
}

class AnswerTooLarge extends Error {}

function networkFailure(error: unknown, baseUrl: string): { reason: FailureReason; message: string } {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return { reason: 'timeout', message: 'no answer in time' };
  const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message ?? 'unknown error';
  return { reason: 'network', message: `cannot reach ${baseUrl}: ${cause}` };
}

type Sent = Outcome | { kind: 'unreachable'; reason: FailureReason; message: string };

class Importer {
  private readonly url: string;
  private aborted: ImportSummary['aborted'] = null;
  private failuresInARow = 0;

  constructor(private readonly options: ImportPsuOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/api/v1/apptoken`;
  }

  /** Not an answer AppToken Server gives: every entry would fare the same, so the import stops. */
  private unexpected(status: number, detail: string): Outcome {
    return { kind: 'abort', status, code: 'UNEXPECTED_ANSWER', message: `the server at ${this.options.baseUrl} did not answer as AppToken Server (${detail})` };
  }

  get abortReason(): ImportSummary['aborted'] {
    return this.aborted;
  }

  private async send(body: MigrationBody): Promise<Sent> {
    let response: Response;
    let text: string;
    // A plain timer and controller (AbortSignal.timeout can be collected early on Node 20); it covers the body too.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { ...this.options.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: controller.signal,
      });
      text = await readCapped(response, MAX_ANSWER_BYTES, () => new AnswerTooLarge());
    } catch (error) {
      if (error instanceof AnswerTooLarge) return this.unexpected(response!.status, `an answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MB`);
      return { kind: 'unreachable', ...networkFailure(error, this.options.baseUrl) };
    } finally {
      clearTimeout(timer);
    }
    let parsed: unknown;
    const isJson = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(response.headers.get('content-type') ?? '');
    try {
      parsed = text && isJson ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    // Only a 201 with the new record (its numeric id) is a migration: any other 2xx is not AppToken Server answering.
    if (response.status >= 200 && response.status < 300) {
      const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
      if (response.status !== 201 || typeof id !== 'number') {
        return this.unexpected(response.status, `a ${response.status} ${isJson ? 'answer' : `answer of type ${response.headers.get('content-type')?.split(';')[0] || 'none'}`} without the new token's id`);
      }
    }
    return outcomeOf({ status: response.status, body: parsed, retryAfter: response.headers.get('retry-after'), location: response.headers.get('location') });
  }

  /** One entry to the end: sent, retried while worth it, and judged. */
  async migrate(entry: ImportEntry & { body: MigrationBody }): Promise<EntryResult> {
    const base = { entry: entry.entry, line: entry.line, identity: entry.identity, fingerprint: entry.fingerprint };
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.send(entry.body);
      if (outcome.kind !== 'unreachable') this.failuresInARow = 0;
      switch (outcome.kind) {
        case 'migrated':
          return { ...base, outcome: 'migrated', tokenId: outcome.tokenId, attempts: attempt };
        case 'already-there':
          return { ...base, outcome: 'already-there', attempts: attempt };
        case 'refused':
          return { ...base, outcome: 'refused', reason: outcome.reason, status: outcome.status, code: outcome.code, message: cleanMessage(outcome.message, entry.body.Token), attempts: attempt };
        case 'abort':
          this.aborted ??= { status: outcome.status, code: outcome.code, message: cleanMessage(outcome.message, entry.body.Token) };
          return { ...base, outcome: 'not-attempted' };
      }
      const message = cleanMessage(outcome.message, entry.body.Token);
      const failed: EntryResult = { ...base, outcome: 'failed', reason: outcome.reason, message, attempts: attempt };
      if (outcome.kind === 'retry') Object.assign(failed, { status: outcome.status, code: outcome.code });
      if (attempt > delays.length || this.aborted) {
        if (outcome.kind === 'unreachable' && ++this.failuresInARow >= GIVE_UP_AFTER_FAILURES) {
          this.aborted ??= { message: `gave up after ${GIVE_UP_AFTER_FAILURES} entries in a row failed (${REASON_LABELS[outcome.reason]}): ${message}` };
        }
        return failed;
      }
      // Jitter keeps parallel workers from retrying in lockstep; Retry-After, when given, is a floor.
      const retryAfter = outcome.kind === 'retry' ? (outcome.retryAfterMs ?? 0) : 0;
      await sleep(Math.max(delays[attempt - 1] * (0.75 + Math.random() * 0.5), retryAfter));
    }
  }
}

async function runPool<T>(items: readonly T[], concurrency: number, stop: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !stop()) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function finish(options: ImportPsuOptions, summary: ImportSummary): ImportPsuResult {
  if (options.json) {
    options.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (summary.aborted) {
      const { status, code, message } = summary.aborted;
      options.stderr.write(`${terminalSafe(`import-psu: ${[status, code].filter((x) => x !== undefined).join(' ')}${status !== undefined || code ? ': ' : ''}${message}`)}\n`);
    }
  } else {
    // The summary quotes the server's messages and the file's own values: each line made safe for the terminal.
    options.stdout.write(safeLines(renderSummary(summary)));
  }
  return { exitCode: summary.ok ? 0 : 1, summary };
}

export async function runImportPsu(options: ImportPsuOptions): Promise<ImportPsuResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`concurrency must be a whole number from 1 to ${MAX_CONCURRENCY}`);
  }
  const fileName = options.file === '-' ? '(standard input)' : options.file;
  const stopped = (message: string) => finish(options, summarize({ file: fileName, format: null, encoding: null, results: [], aborted: { message } }));

  let bytes: Buffer;
  try {
    bytes = options.file === '-' ? await readAll(options.stdin ?? process.stdin) : await readFile(options.file);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return stopped(`cannot read ${fileName}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (code ?? String(error))}`);
  }
  const parsed = parseImportFile(bytes);
  if (!parsed.ok) return stopped(`cannot import ${fileName}: ${parsed.message}`);

  const results: EntryResult[] = [];
  const sendable: (ImportEntry & { body: MigrationBody })[] = [];
  for (const entry of parsed.entries) {
    if (entry.body) sendable.push(entry as ImportEntry & { body: MigrationBody });
    else results.push({ entry: entry.entry, line: entry.line, identity: entry.identity, fingerprint: entry.fingerprint, outcome: 'refused', reason: entry.problem!.reason, message: entry.problem!.message });
  }

  const importer = new Importer(options);
  const progress = options.isTTY ? new ProgressBar(options.stderr, parsed.entries.length) : undefined;
  const counts = { migrated: 0, 'already-there': 0, refused: results.length, failed: 0, 'not-attempted': 0 };
  const note = () => `${counts.migrated} migrated · ${counts['already-there']} already there · ${counts.refused} refused${counts.failed ? ` · ${counts.failed} failed` : ''}`;
  progress?.update(results.length, note());
  await runPool(sendable, concurrency, () => importer.abortReason !== null, async (entry) => {
    const result = await importer.migrate(entry);
    results.push(result);
    counts[result.outcome]++;
    progress?.update(results.length, note());
  });
  progress?.done();

  const done = new Set(results.map((r) => r.entry));
  for (const entry of sendable) {
    if (!done.has(entry.entry)) results.push({ entry: entry.entry, line: entry.line, identity: entry.identity, fingerprint: entry.fingerprint, outcome: 'not-attempted' });
  }
  return finish(options, summarize({ file: fileName, format: parsed.format, encoding: parsed.encoding, results, aborted: importer.abortReason }));
}
