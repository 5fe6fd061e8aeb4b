import { createHash } from 'node:crypto';
import { InvalidDate, parseFlexibleDate } from '../common/flexible-date.js';
import { CLAIM } from '../app-token/token-codec.js';

/**
 * Reads the file `apptoken import-psu FILE` migrates: PSU app tokens as JSON (an array of
 * `{Token, Identity: {Name}, Role, Expiration}`, one such object, or one object a line), or a plain list of
 * tokens. Pure: bytes in, entries out. Never throws on bad content and never puts a token (or any text that
 * could hold one) into a message: an entry that cannot be read becomes an entry with a problem and its line.
 */

/** The body `POST /api/v1/apptoken` takes, in PSU's casing; nothing else (the route refuses unknown properties). */
export interface MigrationBody {
  Token: string;
  Identity: { Name: string };
  Role: string[];
  /** Passed on as the file has it (ISO 8601 string or Windows PowerShell 5.1's date object): the server reads it. */
  Expiration?: unknown;
}

/** Why an entry is not sent at all. */
export type EntryProblemReason = 'unreadable-entry' | 'bad-entry' | 'revoked-in-psu';

export interface ImportEntry {
  /** 1-based position among the file's entries. */
  entry: number;
  /** 1-based line of the file where the entry starts. */
  line: number;
  /** The identity name, for messages (from the entry, else the token's name claim), when known. */
  identity?: string;
  /** First 8 hex digits of the token's SHA-256: tells entries apart in a report without revealing the token. */
  fingerprint?: string;
  /** What to send; absent when the entry has a problem. */
  body?: MigrationBody;
  problem?: { reason: EntryProblemReason; message: string };
}

export type ImportFileFormat = 'json-array' | 'json-object' | 'json-lines' | 'token-list' | 'mixed-lines';

export type ParsedImportFile = { ok: true; format: ImportFileFormat; encoding: string; entries: ImportEntry[] } | { ok: false; message: string };

/** What a PSU app token looks like before anything is decoded (three base64url parts). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

export function fingerprintOf(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/** Text from a file as Windows PowerShell writes it too: UTF-8 with or without BOM, or UTF-16 (5.1's Out-File default). */
export function decodeImportFile(bytes: Buffer): { ok: true; text: string; encoding: string } | { ok: false; message: string } {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return { ok: true, text: bytes.subarray(2).toString('utf16le'), encoding: 'utf-16le' };
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, bytes.length - (bytes.length % 2)));
    return { ok: true, text: swapped.swap16().toString('utf16le'), encoding: 'utf-16be' };
  }
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return { ok: true, text: bytes.subarray(3).toString('utf8'), encoding: 'utf-8' };
  const head = bytes.subarray(0, 512);
  if (head.includes(0)) {
    // UTF-16 LE without a BOM: ASCII text with a NUL after every character.
    const oddNuls = head.filter((byte, index) => index % 2 === 1 && byte === 0).length;
    if (head.length >= 2 && oddNuls * 2 >= head.length - 1) return { ok: true, text: bytes.toString('utf16le'), encoding: 'utf-16le' };
    return { ok: false, message: 'the file is not text (it holds NUL bytes): give JSON or a list of tokens, in UTF-8 or UTF-16' };
  }
  return { ok: true, text: bytes.toString('utf8'), encoding: 'utf-8' };
}

/** Only printable text of a name that came from a file, shortened: a name must not drive the terminal. */
export function displayName(name: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = name.replace(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, '?');
  return clean.length > 64 ? `${clean.slice(0, 63)}…` : clean;
}

/** The name and roles a PSU token claims, read without verifying it (the server verifies). */
export function readTokenClaims(token: string): { name: string; roles: string[] } | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const claims = payload as Record<string, unknown>;
  const name = claims[CLAIM.name];
  const role = claims[CLAIM.role];
  const roles = typeof role === 'string' ? [role] : Array.isArray(role) && role.every((r) => typeof r === 'string') ? (role as string[]) : undefined;
  if (typeof name !== 'string' || name === '' || roles === undefined) return undefined;
  return { name, roles };
}

/** PSU's role forms: one name, a comma-joined string ("Administrator, Operator"), or an array of either. */
function roleList(value: unknown): string[] | undefined {
  const items = typeof value === 'string' ? [value] : Array.isArray(value) ? value : undefined;
  if (!items || !items.every((item) => typeof item === 'string')) return undefined;
  return (items as string[]).flatMap((item) => item.split(',').map((role) => role.trim())).filter((role) => role !== '');
}

/** The object's properties by lower-cased name; undefined when two differ only in case (which one would count?). */
function caseless(object: Record<string, unknown>): Map<string, unknown> | undefined {
  const map = new Map<string, unknown>();
  for (const [key, value] of Object.entries(object)) {
    const lower = key.toLowerCase();
    if (map.has(lower)) return undefined;
    map.set(lower, value);
  }
  return map;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

type Position = { entry: number; line: number };

function problem(at: Position, reason: EntryProblemReason, message: string, extra: Partial<ImportEntry> = {}): ImportEntry {
  return { ...at, ...extra, problem: { reason, message } };
}

/** An entry from a bare token: identity and roles from its claims; the server stores its `exp`. */
function fromToken(token: string, at: Position): ImportEntry {
  const fingerprint = fingerprintOf(token);
  if (!COMPACT_JWS.test(token)) return problem(at, 'unreadable-entry', 'not a token (three base64url parts)', { fingerprint });
  const claims = readTokenClaims(token);
  if (!claims) return problem(at, 'unreadable-entry', "the token's name and role claims cannot be read: not a PSU app token", { fingerprint });
  return { ...at, fingerprint, identity: displayName(claims.name), body: { Token: token, Identity: { Name: claims.name }, Role: claims.roles } };
}

/** An entry from one object of PSU's shape; missing Identity or Role are read from the token's claims. */
function fromObject(value: unknown, at: Position): ImportEntry {
  if (typeof value === 'string') return fromToken(value.trim(), at);
  if (!isObject(value)) return problem(at, 'bad-entry', 'expected an object {Token, Identity: {Name}, Role, Expiration} or a token');
  const fields = caseless(value);
  if (!fields) return problem(at, 'bad-entry', 'two properties differ only in letter case');
  const token = fields.get('token');
  if (typeof token !== 'string' || token.trim() === '') return problem(at, 'bad-entry', 'no Token (a string)');
  const fingerprint = fingerprintOf(token.trim());
  const claims = readTokenClaims(token.trim());

  const identityField = fields.get('identity');
  let name: unknown = identityField;
  if (isObject(identityField)) name = caseless(identityField)?.get('name');
  if (identityField === undefined || identityField === null) name = claims?.name;
  if (typeof name !== 'string' || name.trim() === '') {
    return problem(at, 'bad-entry', identityField === undefined ? 'no Identity, and the token has no name claim to take it from' : 'Identity.Name is not a name (a string)', { fingerprint });
  }
  const identity = displayName(name);

  const roleField = fields.get('role') ?? fields.get('roles');
  const roles = roleField === undefined || roleField === null ? claims?.roles : roleList(roleField);
  if (roles === undefined || roles.length === 0) {
    return problem(at, 'bad-entry', roleField === undefined ? 'no Role, and the token has no role claim to take it from' : 'Role is not a role name, a comma-joined list or an array of names', { fingerprint, identity });
  }

  // An export of PSU's token records may say a token was revoked there: moving it here would bring it back to life.
  const revoked = fields.get('revoked');
  if (revoked === true || (typeof revoked === 'string' && revoked.toLowerCase() === 'true')) {
    return problem(at, 'revoked-in-psu', 'the entry says the token is revoked (Revoked: true); it is not migrated', { fingerprint, identity });
  }

  const body: MigrationBody = { Token: token.trim(), Identity: { Name: name }, Role: roles };
  const expiration = fields.get('expiration');
  if (expiration !== undefined && expiration !== null && expiration !== '') {
    const parsed = parseFlexibleDate(expiration, true);
    if (parsed instanceof InvalidDate) return problem(at, 'bad-entry', `Expiration: ${parsed.reason}`, { fingerprint, identity });
    body.Expiration = expiration;
  }
  return { ...at, fingerprint, identity, body };
}

/** Offsets where the elements of a top-level JSON array start (the text is known to be valid JSON). */
function arrayElementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  let escaped = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue;
    if (depth === 1 && expectElement && c !== ']') {
      offsets.push(i);
      expectElement = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expectElement = true;
  }
  return offsets;
}

/** 1-based line numbers of ascending offsets, in one pass. */
function linesOf(text: string, offsets: number[]): number[] {
  const lines: number[] = [];
  let line = 1;
  let at = 0;
  for (const offset of offsets) {
    for (; at < offset; at++) if (text.charCodeAt(at) === 10) line++;
    lines.push(line);
  }
  return lines;
}

/** The line and column of a JSON.parse failure, if its message gives a position; never the message itself (it quotes the input). */
function jsonErrorLocation(text: string, error: unknown): string {
  const match = /position (\d+)/.exec(error instanceof Error ? error.message : '');
  if (!match) return '';
  const offset = Math.min(Number(match[1]), text.length);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return ` at line ${line}, column ${offset - before.lastIndexOf('\n')}`;
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Windows PowerShell 5.1 sometimes writes an array as `{"value": [...], "Count": n}`. */
function unwrapPs51Array(value: unknown): unknown[] | undefined {
  if (!isObject(value)) return undefined;
  const fields = caseless(value);
  if (!fields || fields.size !== 2 || !fields.has('count')) return undefined;
  const inner = fields.get('value');
  return Array.isArray(inner) ? inner : undefined;
}

function fromJsonArray(text: string, items: unknown[], offset: number, encoding: string): ParsedImportFile {
  const lines = linesOf(text, arrayElementOffsets(text.slice(offset)).map((o) => o + offset));
  const entries = items.map((item, index) => fromObject(item, { entry: index + 1, line: lines[index] ?? 1 }));
  return { ok: true, format: 'json-array', encoding, entries };
}

function fromLines(text: string, encoding: string): ParsedImportFile {
  const entries: ImportEntry[] = [];
  let objects = 0;
  let tokens = 0;
  text.split('\n').forEach((raw, index) => {
    const content = raw.trim();
    if (content === '' || content.startsWith('#')) return;
    const at = { entry: entries.length + 1, line: index + 1 };
    if (content.startsWith('{') || content.startsWith('"')) {
      if (content.startsWith('{')) objects++;
      else tokens++;
      const parsed = tryJson(content);
      if (!parsed.ok) {
        entries.push(problem(at, 'unreadable-entry', 'not valid JSON'));
        return;
      }
      entries.push(fromObject(parsed.value, at));
      return;
    }
    tokens++;
    entries.push(fromToken(content, at));
  });
  const format: ImportFileFormat = objects > 0 && tokens > 0 ? 'mixed-lines' : objects > 0 ? 'json-lines' : 'token-list';
  return { ok: true, format, encoding, entries };
}

/**
 * The entries of an import file. JSON when the text as a whole is JSON (an array, one object, or 5.1's
 * `{value, Count}`); otherwise one entry a line: a JSON object or a token (blank lines and `#` comments skipped).
 */
export function parseImportFile(bytes: Buffer): ParsedImportFile {
  const decoded = decodeImportFile(bytes);
  if (!decoded.ok) return decoded;
  // CRLF and a stray BOM (a second one, as some editors write) change nothing below.
  const text = decoded.text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { encoding } = decoded;
  const start = text.search(/\S/);
  if (start === -1) return { ok: false, message: 'the file holds no entries' };

  if (text[start] === '[') {
    const parsed = tryJson(text);
    if (!parsed.ok) return { ok: false, message: `the file starts as a JSON array but is not valid JSON${jsonErrorLocation(text, parsed.error)}` };
    const items = parsed.value as unknown[];
    if (items.length === 0) return { ok: false, message: 'the file holds no entries (an empty JSON array)' };
    return fromJsonArray(text, items, 0, encoding);
  }
  if (text[start] === '{') {
    const parsed = tryJson(text);
    if (parsed.ok) {
      const wrapped = unwrapPs51Array(parsed.value);
      if (wrapped) {
        if (wrapped.length === 0) return { ok: false, message: 'the file holds no entries (an empty JSON array)' };
        return fromJsonArray(text, wrapped, text.indexOf('[', start), encoding);
      }
      return { ok: true, format: 'json-object', encoding, entries: [fromObject(parsed.value, { entry: 1, line: text.slice(0, start).split('\n').length })] };
    }
    // Not one JSON document: JSON lines, unless the first line is no JSON by itself (a pretty-printed object gone wrong).
    const firstLine = text.slice(start).split('\n')[0].trim();
    if (!tryJson(firstLine).ok) return { ok: false, message: `the file starts as a JSON object but is not valid JSON${jsonErrorLocation(text, parsed.error)}` };
  }
  return fromLines(text, encoding);
}
