import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiForbiddenResponse, ApiOperation, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CROSS_ORIGIN_DESCRIPTION, UNAUTHORIZED_DESCRIPTION } from '../../common/api-errors.js';
import { ErrorCode } from '../../common/error-code.js';
import { ErrorResponseDto } from '../../common/error-response.dto.js';
import type { BuiltinRole } from '../../role/builtin-roles.js';

export const ACCESS_METADATA = 'apptoken:access';

/**
 * What a route demands. The global AccessGuard refuses any route that declares nothing,
 * so every handler (or its controller) carries exactly one of these.
 */
export type AccessRule =
  | { kind: 'public' }
  /** Any authenticated identity; `roles` narrows it to holders of at least one of them. */
  | { kind: 'authenticated'; roles: readonly BuiltinRole[]; bearerOnly: boolean; changesState: boolean };

/** No authentication needed (sign-in, liveness). */
export function Public(): MethodDecorator & ClassDecorator {
  return SetMetadata(ACCESS_METADATA, { kind: 'public' } satisfies AccessRule);
}

export interface AuthenticatedOptions {
  /** Accept only identities holding at least one of these roles. Empty: any signed-in identity. */
  roles?: readonly BuiltinRole[];
  /** Only an `Authorization: Bearer` app token is accepted (forward-auth, introspection). */
  bearerOnly?: boolean;
  /** A GET that changes something (PSU's grant and sign-out): checked for cross-site use like a POST. */
  changesState?: boolean;
  /** Operation summary for Swagger. */
  summary?: string;
}

/** Declares who may call a route, and documents the same requirement in Swagger. */
export function Authenticated(options: AuthenticatedOptions = {}): MethodDecorator & ClassDecorator {
  const roles = options.roles ?? [];
  const bearerOnly = options.bearerOnly ?? false;
  const changesState = options.changesState ?? false;
  const who = roles.length === 0 ? 'any signed-in identity' : `role ${roles.join(' or ')}`;
  const decorators: Array<ClassDecorator | MethodDecorator> = [
    SetMetadata(ACCESS_METADATA, { kind: 'authenticated', roles, bearerOnly, changesState } satisfies AccessRule),
    ApiBearerAuth('bearer'),
    ApiUnauthorizedResponse({ description: UNAUTHORIZED_DESCRIPTION, type: ErrorResponseDto }),
  ];
  if (!bearerOnly) decorators.push(ApiCookieAuth('cookie'));
  // A GET that changes state is checked for cross-site use like a POST (the document's POSTs get that 403 anyway).
  const forbidden = [roles.length > 0 ? `${ErrorCode.ROLE_REQUIRED}: the caller lacks ${who}` : '', changesState && !bearerOnly ? CROSS_ORIGIN_DESCRIPTION : ''].filter(Boolean);
  if (forbidden.length > 0) decorators.push(ApiForbiddenResponse({ description: forbidden.join('; '), type: ErrorResponseDto }));
  if (options.summary) {
    decorators.push(ApiOperation({ summary: options.summary, description: `Requires ${who}.` }));
  }
  return applyDecorators(...decorators) as MethodDecorator & ClassDecorator;
}
