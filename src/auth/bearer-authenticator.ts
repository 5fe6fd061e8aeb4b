import type { ExecutionContext } from '@nestjs/common';
import type { Principal } from './principal.js';

/** Injection token of the app-token authenticator the AccessGuard calls for `Authorization: Bearer`. */
export const BEARER_AUTHENTICATOR = Symbol('BEARER_AUTHENTICATOR');

export interface BearerAuthenticator {
  /** The principal of a valid app token; throws 401 (or 503 when the database is down) otherwise. */
  /** The request carries `Authorization: Bearer ...` (checked by the caller). */
  authenticate(context: ExecutionContext): Promise<Principal>;
}
