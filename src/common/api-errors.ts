import { applyDecorators } from '@nestjs/common';
import { ApiResponse, type OpenAPIObject } from '@nestjs/swagger';
import { ErrorCode } from './error-code.js';
import { ErrorResponseDto } from './error-response.dto.js';

type ErrorStatus = 400 | 403 | 404 | 409 | 422 | 429 | 503;

/**
 * Documents the error answers a route's own code gives (404 for what it cannot find, 409 for a conflict...),
 * each with the error schema; the text names the codes a script will see. The answers every route of a kind
 * gives (401 and 503 when authenticated, 400/413/415 for a body...) are added by {@link documentCommonErrors}.
 */
export function ApiErrors(responses: Partial<Record<ErrorStatus, string>>): MethodDecorator {
  return applyDecorators(
    ...Object.entries(responses).map(([status, description]) => ApiResponse({ status: Number(status), description, type: ErrorResponseDto })),
  ) as MethodDecorator;
}

const ERROR_SCHEMA = { $ref: '#/components/schemas/ErrorResponseDto' };

const COMMON = {
  unauthorized: `Missing or refused credentials: ${[
    ErrorCode.AUTHENTICATION_REQUIRED,
    ErrorCode.SESSION_EXPIRED,
    ErrorCode.TOKEN_EXPIRED,
    ErrorCode.TOKEN_REVOKED,
    ErrorCode.TOKEN_INVALID,
    ErrorCode.IDENTITY_DISABLED,
  ].join(', ')}`,
  crossOrigin: `${ErrorCode.CROSS_ORIGIN_REFUSED}: a signed-in browser request from another origin`,
  unavailable: `${ErrorCode.DATABASE_UNAVAILABLE} (PostgreSQL cannot be reached) or ${ErrorCode.SERVICE_UNAVAILABLE}; see Retry-After`,
  badInput: `${ErrorCode.VALIDATION_FAILED}: a parameter or body field is wrong; ${ErrorCode.MALFORMED_BODY}: the body is not JSON`,
  badParameter: `${ErrorCode.VALIDATION_FAILED}: a parameter is wrong`,
  tooLarge: `${ErrorCode.PAYLOAD_TOO_LARGE}: the body is over 100 kB`,
  mediaType: `${ErrorCode.UNSUPPORTED_MEDIA_TYPE}: send application/json`,
};

type Operation = {
  parameters?: Array<{ in?: string }>;
  requestBody?: unknown;
  security?: Array<Record<string, string[]>>;
  responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
};

/**
 * Adds to every operation the error answers the shared machinery gives, from what the document already says
 * of it: authenticated (security) gives 401 and 503 (the database is read on every such request), with the
 * session cookie an unsafe method gives 403 for a cross-origin browser request; a body gives 400, 413 and
 * 415; parameters give 400. Operations stated public get `security: []`, so no operation leaves it unsaid.
 */
export function documentCommonErrors(document: OpenAPIObject): OpenAPIObject {
  for (const operations of Object.values(document.paths)) {
    for (const [method, value] of Object.entries(operations)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      const operation = value as Operation;
      const add = (status: number, description: string) => {
        const existing = operation.responses[status];
        if (!existing) {
          operation.responses[status] = { description, content: { 'application/json': { schema: ERROR_SCHEMA } } };
          return;
        }
        existing.content ??= { 'application/json': { schema: ERROR_SCHEMA } };
        // A route's own text for this status stays; codes it does not name yet are added after it.
        const codes = description.match(/\b[A-Z][A-Z_]{3,}\b/g) ?? [];
        if (codes.some((code) => !existing.description.includes(code))) existing.description += `; ${description}`;
      };
      const security = operation.security ?? [];
      if (operation.security === undefined) operation.security = [];
      const hasParameters = (operation.parameters ?? []).some((parameter) => parameter.in === 'path' || parameter.in === 'query');
      if (operation.requestBody !== undefined) {
        add(400, COMMON.badInput);
        add(413, COMMON.tooLarge);
        add(415, COMMON.mediaType);
      } else if (hasParameters) {
        add(400, COMMON.badParameter);
      }
      if (security.length > 0) {
        add(401, COMMON.unauthorized);
        if (method !== 'get' && security.some((scheme) => 'cookie' in scheme)) add(403, COMMON.crossOrigin);
        add(503, COMMON.unavailable);
      }
    }
  }
  return document;
}

export const UNAUTHORIZED_DESCRIPTION = COMMON.unauthorized;
export const CROSS_ORIGIN_DESCRIPTION = COMMON.crossOrigin;
