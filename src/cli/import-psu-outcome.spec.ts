import { describe, expect, it } from '@jest/globals';
import { REFUSAL_MESSAGES, type RefusalReason as CodecReason } from '../app-token/token-codec.js';
import { outcomeOf, retryAfterMs } from './import-psu-outcome.js';

const refused = (message: string) => outcomeOf({ status: 422, body: { statusCode: 422, code: 'MIGRATION_REFUSED', message } });

describe('outcomeOf: what an answer of POST /api/v1/apptoken means for a bulk import', () => {
  it('201 is migrated, with the new record id', () => {
    expect(outcomeOf({ status: 201, body: { id: 42, token: 'x' } })).toEqual({ kind: 'migrated', tokenId: 42 });
  });

  it('409 "already stored" is already there; 409 "deleted here" is a refusal; any other 409 is worth a retry', () => {
    expect(outcomeOf({ status: 409, body: { code: 'CONFLICT', message: 'this token is already stored here' } })).toEqual({ kind: 'already-there' });
    expect(outcomeOf({ status: 409, body: { code: 'CONFLICT', message: 'this token was deleted here and cannot be migrated again; grant a new one' } })).toMatchObject({ kind: 'refused', reason: 'deleted-here', code: 'CONFLICT' });
    expect(outcomeOf({ status: 409, body: { code: 'CONFLICT', message: 'A concurrent change to the same records got in the way; nothing was changed; retry' } })).toMatchObject({ kind: 'retry', reason: 'conflict-retry' });
  });

  // Every verification refusal the codec can give, in the words the migration service puts before it.
  const codecReasons: Record<CodecReason, string> = {
    malformed: 'malformed-token',
    'too-large': 'malformed-token',
    'unsupported-algorithm': 'malformed-token',
    'bad-signature': 'wrong-key',
    'wrong-issuer': 'wrong-issuer',
    'wrong-audience': 'wrong-audience',
    'not-yet-valid': 'not-yet-valid',
    expired: 'expired',
    'bad-claims': 'malformed-token',
  };
  it.each(Object.entries(codecReasons))('422 for the codec\'s "%s" is grouped as %s', (codec, reason) => {
    expect(refused(`cannot migrate: ${REFUSAL_MESSAGES[codec as CodecReason]}`)).toMatchObject({ kind: 'refused', reason, status: 422, code: 'MIGRATION_REFUSED' });
  });

  it.each([
    ['cannot migrate: the token has expired', 'expired'],
    ['cannot migrate: Expiration has passed', 'expired'],
    ['cannot migrate: role "Payroll" does not exist here (a role claim must name a role exactly, ignoring letter case only); create it first', 'unknown-role'],
    ['cannot migrate: Identity.Name "Mallory" is not the token\'s name claim "Admin"', 'claims-disagree'],
    ['cannot migrate: Role "Administrator" is not the token\'s role claim "Reader"', 'claims-disagree'],
    ['cannot migrate: identity "ci-bot" does not hold role Reader here', 'identity-lacks-role'],
    ['cannot migrate: the name claim is not a valid identity name (1 to 256 characters)', 'invalid-name'],
    ['cannot migrate: tokens must expire: the maximum lifetime is 90 days (APP_TOKEN_MAX_LIFETIME_DAYS)', 'lifetime-too-long'],
    ['cannot migrate: the lifetime exceeds the maximum of 90 days (APP_TOKEN_MAX_LIFETIME_DAYS)', 'lifetime-too-long'],
    // Names and roles in a message come from the token: a role called "issuer" is still an unknown role.
    ['cannot migrate: role "the token\'s issuer" does not exist here', 'unknown-role'],
    ['cannot migrate: something new', 'refused'],
  ])('422 "%s" is grouped as %s', (message, reason) => {
    expect(refused(message)).toMatchObject({ kind: 'refused', reason, message });
  });

  it('a reason field in the body, should the route send one, wins over the message', () => {
    expect(outcomeOf({ status: 422, body: { message: 'cannot migrate: whatever', reason: 'wrong-key' } })).toMatchObject({ reason: 'wrong-key' });
    expect(outcomeOf({ status: 422, body: { message: 'cannot migrate: whatever', reason: 'no-such-reason' } })).toMatchObject({ reason: 'refused' });
    expect(outcomeOf({ status: 422, body: { message: 'cannot migrate: whatever', reason: 'network' } })).toMatchObject({ kind: 'refused', reason: 'refused' });
  });

  it('400, 413 and 415 refuse the entry as sent', () => {
    for (const status of [400, 413, 415]) expect(outcomeOf({ status, body: { code: 'VALIDATION_FAILED', message: 'role must be an array' } })).toMatchObject({ kind: 'refused', reason: 'bad-entry', status });
  });

  it('429 and 5xx are retried, honouring Retry-After', () => {
    expect(outcomeOf({ status: 503, body: { code: 'DATABASE_UNAVAILABLE', message: 'down' }, retryAfter: '2' })).toEqual({ kind: 'retry', reason: 'server-error', status: 503, code: 'DATABASE_UNAVAILABLE', message: 'down', retryAfterMs: 2000 });
    expect(outcomeOf({ status: 429, body: undefined, retryAfter: null })).toMatchObject({ kind: 'retry', reason: 'throttled', message: 'HTTP 429', retryAfterMs: undefined });
    expect(outcomeOf({ status: 502, body: 'Bad Gateway' })).toMatchObject({ kind: 'retry', reason: 'server-error', message: 'HTTP 502' });
  });

  it('401, 403, 404 and redirects stop the run: they are about the caller or the URL, not the entry', () => {
    expect(outcomeOf({ status: 403, body: { code: 'ROLE_REQUIRED', message: 'Requires role Administrator' } })).toEqual({ kind: 'abort', status: 403, code: 'ROLE_REQUIRED', message: 'Requires role Administrator' });
    expect(outcomeOf({ status: 401, body: { code: 'TOKEN_INVALID', message: 'Invalid app token' } })).toMatchObject({ kind: 'abort', status: 401, code: 'TOKEN_INVALID' });
    expect(outcomeOf({ status: 404, body: { code: 'NOT_FOUND', message: 'Cannot POST /x/api/v1/apptoken' } })).toMatchObject({ kind: 'abort', message: expect.stringMatching(/is APPTOKEN_URL an AppToken server/) });
    expect(outcomeOf({ status: 301, body: undefined, location: 'https://apptoken.example/api/v1/apptoken' })).toMatchObject({ kind: 'abort', message: expect.stringMatching(/redirect to https:\/\/apptoken\.example/) });
  });
});

describe('retryAfterMs', () => {
  it('reads seconds or an HTTP date, capped at 30 s', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('3600')).toBe(30_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 5_000)).toBe(5_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
