import { HttpException } from '@nestjs/common';
import { ApiException, ErrorCode } from '../common/error-code.js';

/** How a request was authenticated: the AccessGuard's two ways, and the forward-auth decision for gateways. */
export type AuthVia = 'session' | 'token' | 'gateway';
export const AUTH_VIAS: readonly AuthVia[] = ['session', 'token', 'gateway'];

/** What an authentication decision came to: the `outcome` label of apptoken_auth_decisions_total. */
export type AuthOutcome = 'ok' | 'invalid' | 'expired' | 'revoked' | 'forbidden' | 'unavailable';
export const AUTH_OUTCOMES: readonly AuthOutcome[] = ['ok', 'invalid', 'expired', 'revoked', 'forbidden', 'unavailable'];

/**
 * The outcome a refusal stands for. 401s carry the token's state in their error code when the verifier knows
 * it (TOKEN_EXPIRED, TOKEN_REVOKED), else invalid; 403, and forward-auth's 400 for a request no rule can judge, are
 * refusals by policy (forbidden); a database failure or any other error means no decision could be made.
 */
export function authOutcome(error: unknown): AuthOutcome {
  if (!(error instanceof HttpException)) return 'unavailable';
  const status = error.getStatus();
  if (status === 401) {
    const code = error instanceof ApiException ? error.code : undefined;
    return code === ErrorCode.TOKEN_EXPIRED ? 'expired' : code === ErrorCode.TOKEN_REVOKED ? 'revoked' : 'invalid';
  }
  return status >= 500 ? 'unavailable' : 'forbidden';
}
