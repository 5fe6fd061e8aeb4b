import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { ErrorCode } from '../common/error-code.js';

/** Where `npm run build` puts the console (vite, console/vite.config.ts): dist/console-ui, from src/console or dist/console. */
export const CONSOLE_DIR = join(import.meta.dirname, '..', '..', 'dist', 'console-ui');

/** The console's client-side pages; each answers with index.html. Anything else stays a 404. */
export const CONSOLE_PAGES = ['/', '/tokens', '/identities', '/roles', '/endpoints', '/audit'] as const;

/**
 * Everything the console loads comes from this origin; no inline script or style, no eval, no framing.
 * img-src allows data: for the small SVG images inside Mantine's stylesheet.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('Content-Security-Policy', CONSOLE_CSP)
    .header('Cross-Origin-Opener-Policy', 'same-origin')
    .header('Cross-Origin-Resource-Policy', 'same-origin')
    .header('Permissions-Policy', 'camera=(), microphone=(), geolocation=(), payment=(), usb=()');
}

/**
 * Serves the admin console at / (Swagger stays at /swagger, the API at /api): index.html for the console's
 * pages, the hashed bundles under /assets/ (cached for a year: their names change with their content).
 */
export async function serveConsole(app: NestFastifyApplication, dir = CONSOLE_DIR): Promise<void> {
  const indexFile = join(dir, 'index.html');
  const index = existsSync(indexFile) ? readFileSync(indexFile) : null;
  const fastify = app.getHttpAdapter().getInstance();

  for (const page of CONSOLE_PAGES) {
    fastify.get(page, (_request, reply) => {
      if (!index) {
        return reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', code: ErrorCode.SERVICE_UNAVAILABLE, message: 'The console is not built: run npm run build' });
      }
      return secure(reply).header('Cache-Control', 'no-cache').type('text/html; charset=utf-8').send(index);
    });
  }
  if (!index) return;

  await app.register(fastifyStatic, {
    root: join(dir, 'assets'),
    prefix: '/assets/',
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    immutable: true,
    maxAge: '365d',
    setHeaders: (response) => {
      void response.header('Content-Security-Policy', CONSOLE_CSP);
      void response.header('Cross-Origin-Resource-Policy', 'same-origin');
    },
  });
  const favicon = join(dir, 'favicon.svg');
  if (existsSync(favicon)) {
    const icon = readFileSync(favicon);
    fastify.get('/favicon.svg', (_request, reply) => secure(reply).header('Cache-Control', 'public, max-age=86400').type('image/svg+xml').send(icon));
  }
}
