import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { SESSION_COOKIE } from './auth/session-cookie.js';
import { documentCommonErrors } from './common/api-errors.js';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('AppToken Server')
    .setDescription(
      'App tokens compatible with PowerShell Universal: sign in, grant, revoke and enforce roles. ' +
        'Authenticate with the session cookie from POST /api/v1/signin, or with `Authorization: Bearer <app token>`.',
    )
    .setVersion('1')
    .setLicense('MIT', 'https://opensource.org/license/mit')
    // Relative: the document describes whichever server serves it.
    .addServer('/')
    // Tags in the order a newcomer needs them.
    .addTag('auth', 'Sign in and out (session cookie)')
    .addTag('apptoken', 'Grant, list, revoke, rotate, delete and migrate app tokens')
    .addTag('gateway', 'Forward-auth for gateways, and RFC 7662 introspection')
    .addTag('endpoint', 'Custom API endpoint rules (Administrators)')
    .addTag('identity', 'Identities')
    .addTag('role', 'Roles')
    .addTag('audit', 'The audit trail (Administrators)')
    .addTag('health', 'Liveness, readiness, and the PSU-style status and version')
    .addCookieAuth(
      SESSION_COOKIE,
      { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /api/v1/signin (named __Host-apptoken_session over HTTPS)' },
      'cookie',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An app token' }, 'bearer')
    .build();
  return documentCommonErrors(SwaggerModule.createDocument(app, config));
}

/** Where the committed document lives, and the command that rewrites it (the drift test prints it). */
export const OPENAPI_FILE = 'openapi.json';
export const OPENAPI_WRITE_COMMAND = 'npm run openapi:write';

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
  );
}

/** The committed form of the document: keys sorted at every level (a stable diff), 2-space JSON, a final newline. */
export function serializeOpenApi(document: unknown): string {
  return `${JSON.stringify(sortKeys(document), null, 2)}\n`;
}

/**
 * Swagger UI shares the console's origin and session cookie, so it gets a policy too: its scripts are files
 * (no inline script, no eval), but its page carries an inline <style> block and style attributes, hence
 * 'unsafe-inline' for styles only. It talks to this origin alone.
 */
export const SWAGGER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Swagger UI at /swagger, the document at /swagger/json. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('swagger', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'swagger/json',
    yamlDocumentUrl: 'swagger/yaml',
    customSiteTitle: 'AppToken Server API',
    swaggerOptions: { persistAuthorization: false, withCredentials: true },
  });
}
