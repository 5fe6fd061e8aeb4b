import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import fastifyCookie from '@fastify/cookie';
import { HttpStatus } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RawServerDefault } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import { AppModule } from './app.module.js';
import { CaseInsensitiveBodyPipe } from './common/case-insensitive-body.pipe.js';
import { ApiException, ErrorCode } from './common/error-code.js';
import { AllExceptionsFilter } from './common/http-exception.filter.js';
import { AccessLogController, bindRequestLogger, createLogger, PinoNestLogger, REQUEST_ID_LOG_LABEL, requestScopedLogger } from './common/logging.js';
import { serveConsole } from './console/console-routes.js';
import { MAX_NESTING, nestedTooDeep } from './common/untrusted-input.js';
import { UntrustedInputPipe } from './common/untrusted-input.pipe.js';
import { createValidationPipe } from './common/validation.js';
import type { AppConfig } from './config/app-config.js';
import { MetricsService } from './metrics/metrics.service.js';
import { setupSwagger, SWAGGER_CSP } from './swagger.js';

export const BODY_LIMIT_BYTES = 100 * 1024;
const FORM_ROUTE = '/api/v1/apptoken/introspect';

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

export interface CreateAppOptions {
  config: AppConfig;
  databaseUrl: string;
  poolSize: number;
  embedded: boolean;
  logger?: PinoLogger;
}

/** Builds the configured application, not yet listening. Used by main.ts and by the e2e tests. */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(options.config.logLevel);
  const adapter = new FastifyAdapter({
    loggerInstance: logger,
    // One access line per request from fastify's own request logging; errors are logged by the exception filter.
    logController: new AccessLogController({ disableRequestLogging: !options.config.logRequests, requestIdLogLabel: REQUEST_ID_LOG_LABEL }),
    bodyLimit: BODY_LIMIT_BYTES,
    // fastify takes a hop count too, which the adapter's type omits.
    trustProxy: options.config.trustProxy as boolean | string,
    // Ids are ours: a client-sent X-Request-Id could be used to forge log lines.
    requestIdHeader: false,
    genReqId: () => randomUUID(),
    // Not 503 on closing: main.ts drains (health/connection-drain.ts), serving every request it accepted.
    return503OnClosing: false,
    // A URL fastify cannot route (undecodable, or a path segment over 100 characters) is refused before any
    // route, hook or exception filter runs: the same body shape, a request id, a log line; and never the URL
    // echoed back (a token pasted into a path would be).
    frameworkErrors: (error: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === 'FST_ERR_BAD_URL' ? 'The URL does not percent-decode' : 'The URL cannot be routed (a path segment over 100 characters, or not decodable)';
      request.log.info({ method: request.method, status: 400, reason: error.code }, 'request refused before routing');
      void reply.header('X-Request-Id', request.id).code(400).send({ statusCode: 400, error: 'Bad Request', code: ErrorCode.BAD_REQUEST, message, requestId: request.id });
    },
    // What Node's HTTP parser refuses before fastify sees a request (an unknown method, headers over 16 kB, a body
    // longer than its Content-Length): a JSON error body with a code, and a log line, instead of "Client Error".
    clientErrorHandler: (error: Error & { code?: string }, socket: import('node:net').Socket) => {
      const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? 431 : 400;
      const body = JSON.stringify({
        statusCode: status,
        error: tooLarge ? 'Request Header Fields Too Large' : 'Bad Request',
        code: tooLarge ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.MALFORMED_BODY,
        message: tooLarge ? 'The request headers are too large' : 'The request is not valid HTTP (an unknown method, or a body that does not match its Content-Length)',
      });
      logger.info({ status, reason: error.code, address: socket.remoteAddress }, 'request refused by the HTTP parser');
      if (socket.writable) {
        socket.end(`HTTP/1.1 ${status} ${tooLarge ? 'Request Header Fields Too Large' : 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      } else {
        socket.destroy(error);
      }
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    {
      module: class ApplicationRoot {},
      imports: [
        AppModule.forRoot({ config: options.config, databaseUrl: options.databaseUrl, poolSize: options.poolSize, embedded: options.embedded }),
      ],
    },
    adapter,
    { logger: new PinoNestLogger(logger, requestScopedLogger), abortOnError: false },
  );
  const fastify = app.getHttpAdapter().getInstance();
  // First: everything after it, up to the handler and the exception filter, logs with the request's id.
  bindRequestLogger(fastify);
  // Cookies are parsed where they are read (sessionSecret), not by a hook on every request.
  await app.register(fastifyCookie, { hook: false });
  app.get(MetricsService).instrument(fastify);
  // JSON as fastify parses it (prototype poisoning refused), except that an empty body is no body:
  // curl -H 'content-type: application/json' -X POST, and PowerShell's -ContentType without -Body, send one.
  const json = fastify.getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit: BODY_LIMIT_BYTES }, (request, body, done) => {
    if (body.length === 0 || body.toString('utf8').trim() === '') return done(null, undefined);
    const text = body.toString('utf8');
    json(request, text, (error, parsed) => {
      // fastify says only "not valid JSON"; when plain JSON.parse accepts it, the refusal was prototype poisoning.
      if (error && isJson(text)) return done(new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, 'A body may not contain "__proto__" or "constructor.prototype"'), undefined);
      // Refused here, before anything that recurses (class-transformer) can overflow the stack on it.
      if (!error && nestedTooDeep(parsed)) return done(new ApiException(HttpStatus.BAD_REQUEST, ErrorCode.MALFORMED_BODY, `The JSON body is nested more than ${MAX_NESTING} levels deep`), undefined);
      done(error, parsed);
    });
  });

  // A callback hook, not an async one: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('X-Request-Id', request.id);
    void reply.header('X-Content-Type-Options', 'nosniff');
    void reply.header('X-Frame-Options', 'DENY');
    void reply.header('Referrer-Policy', 'no-referrer');
    // API answers are per caller, and some carry token values: no cache may keep them.
    if (request.url.startsWith('/api/')) void reply.header('Cache-Control', 'no-store');
    else if (request.url === '/swagger' || request.url.startsWith('/swagger/') || request.url.startsWith('/swagger?')) void reply.header('Content-Security-Policy', SWAGGER_CSP);
    // Bodies are JSON; form bodies only for RFC 7662 introspection (elsewhere they would invite cross-site form posts).
    const type = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
    if (type !== undefined && type !== 'application/json' && hasBody(request.headers)) {
      const form = type === 'application/x-www-form-urlencoded' && request.url.split('?')[0] === FORM_ROUTE;
      if (!form) {
        void reply.code(415).send({ statusCode: 415, error: 'Unsupported Media Type', code: ErrorCode.UNSUPPORTED_MEDIA_TYPE, message: `Send the body as application/json, not ${type.slice(0, 80)} (PowerShell: -ContentType 'application/json')` });
        return;
      }
    }
    done();
  });

  app.useGlobalPipes(new UntrustedInputPipe(), new CaseInsensitiveBodyPipe(), createValidationPipe());
  app.useGlobalFilters(new AllExceptionsFilter());
  setupSwagger(app);
  await serveConsole(app);
  return app;
}
