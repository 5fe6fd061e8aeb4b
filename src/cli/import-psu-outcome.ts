import type { EntryProblemReason } from './psu-import-file.js';

/**
 * What one answer of `POST /api/v1/apptoken` means for a bulk import. Pure, so every status and message the
 * route gives is tested without a server. The route gives 422 MIGRATION_REFUSED for every refusal and tells
 * the reason in its message only, so the reason is read from the message (the wording in
 * app-token-migration.service.ts and token-codec.ts's REFUSAL_MESSAGES); a body `reason` field, should the
 * route ever send one, wins.
 */

export type RefusalReason =
  | EntryProblemReason
  | 'expired'
  | 'wrong-key'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'not-yet-valid'
  | 'unknown-role'
  | 'claims-disagree'
  | 'identity-lacks-role'
  | 'invalid-name'
  | 'lifetime-too-long'
  | 'malformed-token'
  | 'deleted-here'
  | 'refused';

export type FailureReason = 'network' | 'timeout' | 'server-error' | 'throttled' | 'conflict-retry';

/** Labels for people; the keys are for scripts (`--json`). */
export const REASON_LABELS: Record<RefusalReason | FailureReason, string> = {
  expired: 'expired',
  'wrong-key': 'wrong key',
  'wrong-issuer': 'wrong issuer',
  'wrong-audience': 'wrong audience',
  'not-yet-valid': 'not valid yet (nbf in the future)',
  'unknown-role': 'unknown role',
  'claims-disagree': "Identity or Role disagree with the token's claims",
  'identity-lacks-role': 'the identity here lacks the role',
  'invalid-name': 'name claim is not a valid identity name',
  'lifetime-too-long': 'lifetime over the maximum',
  'malformed-token': 'not a PSU app token',
  'deleted-here': 'deleted here since',
  'revoked-in-psu': 'revoked in PSU',
  'unreadable-entry': 'unreadable entry',
  'bad-entry': 'bad entry',
  refused: 'refused',
  network: 'network error',
  timeout: 'timed out',
  'server-error': 'server error',
  throttled: 'throttled',
  'conflict-retry': 'kept conflicting with concurrent changes',
};

export type Outcome =
  | { kind: 'migrated'; tokenId?: number }
  | { kind: 'already-there' }
  | { kind: 'refused'; reason: RefusalReason; status?: number; code?: string; message: string }
  /** Worth another try (5xx, 429, a transaction conflict); a failure once the tries are used up. */
  | { kind: 'retry'; reason: FailureReason; status?: number; code?: string; message: string; retryAfterMs?: number }
  /** The server refuses the caller, not the entry (401, 403, 404...): no other entry will fare better. */
  | { kind: 'abort'; status: number; code?: string; message: string };

/** Matched on the start of the message only: the rest quotes names and roles from the token, which could say anything. */
const MESSAGE_REASONS: [RegExp, RefusalReason][] = [
  [/^cannot migrate: (the token has expired|Expiration has passed)/i, 'expired'],
  [/^cannot migrate: the token's signature does not verify/i, 'wrong-key'],
  [/^cannot migrate: the token's issuer/i, 'wrong-issuer'],
  [/^cannot migrate: the token's audience/i, 'wrong-audience'],
  [/^cannot migrate: the token is not valid yet/i, 'not-yet-valid'],
  [/^cannot migrate: (the token is not a compact JWS|the token is not signed with HS256|the token lacks the name|the token is larger than)/i, 'malformed-token'],
  [/^cannot migrate: role ".*" does not exist here/i, 'unknown-role'],
  [/^cannot migrate: (Identity\.Name|Role) ".*" is not the token's (name|role) claim/i, 'claims-disagree'],
  [/^cannot migrate: identity ".*" does not hold role/i, 'identity-lacks-role'],
  [/^cannot migrate: the name claim is not a valid identity name/i, 'invalid-name'],
  [/^cannot migrate: (tokens must expire|the lifetime exceeds the maximum)/i, 'lifetime-too-long'],
];

const FAILURE_REASONS = new Set<string>(['network', 'timeout', 'server-error', 'throttled', 'conflict-retry'] satisfies FailureReason[]);
const REFUSAL_REASONS = new Set<string>(Object.keys(REASON_LABELS).filter((reason) => !FAILURE_REASONS.has(reason)));

function refusalReasonOf(message: string, given: unknown): RefusalReason {
  if (typeof given === 'string' && REFUSAL_REASONS.has(given)) return given as RefusalReason;
  return MESSAGE_REASONS.find(([pattern]) => pattern.test(message))?.[1] ?? 'refused';
}

/** Retry-After in seconds (or an HTTP date), as milliseconds, capped so a run cannot hang on it. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, 30_000) : undefined;
}

export interface Answer {
  status: number;
  /** The parsed JSON body, when there was one. */
  body: unknown;
  retryAfter?: string | null;
  location?: string | null;
}

export function outcomeOf(answer: Answer): Outcome {
  const { status } = answer;
  const body = typeof answer.body === 'object' && answer.body !== null ? (answer.body as Record<string, unknown>) : {};
  const code = typeof body.code === 'string' ? body.code : undefined;
  const message = typeof body.message === 'string' ? body.message : `HTTP ${status}`;
  if (status === 201 || status === 200) return { kind: 'migrated', tokenId: typeof body.id === 'number' ? body.id : undefined };
  if (status === 409) {
    if (/^this token is already stored here/i.test(message)) return { kind: 'already-there' };
    if (/^this token was deleted here/i.test(message)) return { kind: 'refused', reason: 'deleted-here', status, code, message };
    // The route's other 409s: a concurrent change got in the way; nothing was written, so trying again is safe.
    return { kind: 'retry', reason: 'conflict-retry', status, code, message };
  }
  if (status === 422) return { kind: 'refused', reason: refusalReasonOf(message, body.reason), status, code, message };
  if (status === 400 || status === 413 || status === 415) return { kind: 'refused', reason: 'bad-entry', status, code, message };
  if (status === 429) return { kind: 'retry', reason: 'throttled', status, code, message, retryAfterMs: retryAfterMs(answer.retryAfter ?? null) };
  if (status >= 500) return { kind: 'retry', reason: 'server-error', status, code, message, retryAfterMs: retryAfterMs(answer.retryAfter ?? null) };
  if (status >= 300 && status < 400) {
    return { kind: 'abort', status, message: `the server answered with a redirect${answer.location ? ` to ${answer.location}` : ''}: set APPTOKEN_URL to the address it names` };
  }
  if (status === 404 || status === 405) {
    return { kind: 'abort', status, code, message: `${message} (is APPTOKEN_URL an AppToken server, with no path after the host?)` };
  }
  // 401, 403 and anything else a client is refused with: about the caller, so every entry would get it.
  return { kind: 'abort', status, code, message };
}
