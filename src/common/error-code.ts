import { HttpException, type HttpStatus } from '@nestjs/common';

/**
 * The stable `code` of every error body, so scripts branch on it instead of parsing English. Never rename
 * or reuse a value: add new ones. The README's error-code table and the OpenAPI enum come from here.
 */
export enum ErrorCode {
  /** 400: the request cannot be judged safely as sent (gateway path refusals, conflicting headers, sign-out with a token). */
  BAD_REQUEST = 'BAD_REQUEST',
  /** 400: the body is not parseable JSON (or claims a wrong length, or is nested too deep, or carries `__proto__`). */
  MALFORMED_BODY = 'MALFORMED_BODY',
  /** 400: a field, query parameter or path parameter has a wrong, missing or unknown value. */
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  /** 401: sign-in refused: unknown user, wrong password or disabled account (the same code for all three). */
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  /** 401: no credentials, or an Authorization header that is not `Bearer`. */
  AUTHENTICATION_REQUIRED = 'AUTHENTICATION_REQUIRED',
  /** 401: the session cookie's session has timed out or was signed out. */
  SESSION_EXPIRED = 'SESSION_EXPIRED',
  /** 401: the app token has expired. */
  TOKEN_EXPIRED = 'TOKEN_EXPIRED',
  /** 401: the app token (or the token it was granted with) has been revoked. */
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  /** 401: the app token is not one of ours: malformed, bad signature, wrong issuer or audience, unknown or deleted. */
  TOKEN_INVALID = 'TOKEN_INVALID',
  /** 401: the token's identity is disabled or deleted. */
  IDENTITY_DISABLED = 'IDENTITY_DISABLED',
  /** 403: the caller lacks a role the route or the request needs. */
  ROLE_REQUIRED = 'ROLE_REQUIRED',
  /** 403: a signed-in browser request came from another origin. */
  CROSS_ORIGIN_REFUSED = 'CROSS_ORIGIN_REFUSED',
  /** 403: forward-auth: no endpoint rule allows the original request. */
  NO_ENDPOINT_RULE = 'NO_ENDPOINT_RULE',
  /** 403: refused for another reason the message gives. */
  FORBIDDEN = 'FORBIDDEN',
  /** 404: no such resource, or not one the caller may see. */
  NOT_FOUND = 'NOT_FOUND',
  /** 409: the change conflicts with the current state (a duplicate name, a built-in role, a revoked token). */
  CONFLICT = 'CONFLICT',
  /** 409: the change would leave no enabled Administrator. */
  LAST_ADMINISTRATOR = 'LAST_ADMINISTRATOR',
  /** 413: the body is larger than the 100 kB limit. */
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  /** 415: the body is not application/json (form bodies only on introspection). */
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  /** 422: a token migration was refused (signature, claims, expiry, unknown role); nothing was written. */
  MIGRATION_REFUSED = 'MIGRATION_REFUSED',
  /** 429: too many failed sign-ins, or too many at once from one address; wait `Retry-After` seconds. */
  THROTTLED = 'THROTTLED',
  /** 500: unexpected; the body's requestId finds it in the log. */
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  /** 503: PostgreSQL cannot be reached; retry after `Retry-After` seconds. */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  /** 503: busy, shutting down or not ready; retry after `Retry-After` seconds. */
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
}

export const ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode);

const BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.VALIDATION_FAILED,
  401: ErrorCode.AUTHENTICATION_REQUIRED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.MIGRATION_REFUSED,
  429: ErrorCode.THROTTLED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/** The code of an error thrown without one: what its status means in this API. */
export function defaultErrorCode(status: number): ErrorCode {
  return BY_STATUS[status] ?? (status >= 500 ? ErrorCode.INTERNAL_ERROR : ErrorCode.BAD_REQUEST);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/**
 * An HTTP error with a stable code: `new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, 'Invalid app token: expired')`.
 * `extra` adds fields to the body (PSU's `errorMessage`).
 */
export class ApiException extends HttpException {
  constructor(
    status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super({ ...extra, message, code }, status);
  }
}
