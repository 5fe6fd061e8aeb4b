import { HttpException } from '@nestjs/common';

/** How a request was authenticated: the AccessGuard's two ways, and the forward-auth decision for gateways. */
export type AuthVia = 'session' | 'token' | 'gateway';
export const AUTH_VIAS: readonly AuthVia[] = ['session', 'token', 'gateway'];

/** What an authentication decision came to: the `outcome` label of apptoken_auth_decisions_total. */
export type AuthOutcome = 'ok' | 'invalid' | 'expired' | 'revoked' | 'forbidden' | 'unavailable';
export const AUTH_OUTCOMES: readonly AuthOutcome[] = ['ok', 'invalid', 'expired', 'revoked', 'forbidden', 'unavailable'];

/**
 * The outcome a refusal stands for. 401s carry the token's state when the verifier knows it (`reason`:
 * expired or revoked), else invalid; 403, and forward-auth's 400 for a request no rule can judge, are
 * refusals by policy (forbidden); a database failure or any other error means no decision could be made.
 */
export function authOutcome(error: unknown): AuthOutcome {
  if (!(error instanceof HttpException)) return 'unavailable';
  const status = error.getStatus();
  if (status === 401) {
    const reason = (error as { reason?: unknown }).reason;
    return reason === 'expired' || reason === 'revoked' ? reason : 'invalid';
  }
  return status >= 500 ? 'unavailable' : 'forbidden';
}
