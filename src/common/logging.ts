import type { LoggerService } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LogController } from 'fastify';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';
import { clientAddress } from '../auth/client-address.js';
import type { LogLevel } from '../config/app-config.js';

/** Query parameters whose values are never written to a log, whatever the route. */
const SECRET_QUERY_KEY = /token|password|secret|key|session|signature/i;

/** The path with secret-looking query values replaced, for logs. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_QUERY_KEY.test(decodeURIComponentSafe(key)) ? `${key}=[REDACTED]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export type LogFormat = 'pretty' | 'json';

/** Readable lines for a person at a terminal; JSON lines for everything else (a pipe, a file, a log shipper). */
export function logFormat(stdout: { isTTY?: boolean } = process.stdout): LogFormat {
  return stdout.isTTY === true ? 'pretty' : 'json';
}

/** pino-pretty, in this process and synchronous (a terminal is slow enough; no line is lost at exit). */
function prettyStream(destination: DestinationStream | undefined): DestinationStream {
  return pinoPretty({
    destination: destination ?? 1,
    colorize: true,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
  });
}

const CENSOR = '[REDACTED]';
/** Fields never written, at the top of a line or one level down (`{ body: { password } }`). */
const SECRET_FIELDS = new Set(['password', 'token', 'signingKey']);
/** Headers never written, wherever a `headers` object is logged. */
const SECRET_HEADERS = ['authorization', 'cookie', 'set-cookie'];
const censor = (): string => CENSOR;
/** Fields whose serializers write only what is safe. */
const SERIALIZED = new Set(['headers', 'err', 'req', 'res']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The headers with credentials replaced (a copy, only when there is one). */
function redactHeaders(headers: unknown): unknown {
  if (!isObject(headers) || !SECRET_HEADERS.some((name) => headers[name] !== undefined)) return headers;
  const copy = { ...headers };
  for (const name of SECRET_HEADERS) if (copy[name] !== undefined) copy[name] = CENSOR;
  return copy;
}

/** One level of a logged object: secret fields and a `headers` object's credentials replaced (a copy, only when needed). */
function redactNested(value: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in value) {
    const inner = value[key];
    if (inner === undefined) continue;
    const redacted = SECRET_FIELDS.has(key) ? CENSOR : key === 'headers' ? redactHeaders(inner) : inner;
    if (redacted !== inner) (copy ??= { ...value })[key] = redacted;
  }
  return copy ?? value;
}

/**
 * The fields of a log call, one level down from the top (the top is the serializers' job): pino's `redact`
 * with wildcard paths ('*.password') did the same for about 10 us per line, most of an access line's cost.
 */
export function redactFields(fields: Record<string, unknown>): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key in fields) {
    const value = fields[key];
    // Top-level secrets, `headers`, `err`, `req` and `res` have their serializers; strings and numbers have nothing inside.
    if (!isObject(value) || Array.isArray(value) || SECRET_FIELDS.has(key) || SERIALIZED.has(key)) continue;
    const redacted = redactNested(value);
    if (redacted !== value) (copy ??= { ...fields })[key] = redacted;
  }
  return copy ?? fields;
}

/**
 * The one structured logger. Headers that carry credentials and any field named like a secret (at the top
 * of a line, in a child's bindings, or one level down) are redacted at the source, so no later log call can
 * leak them. Without a destination: stdout, pretty on a terminal.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, format: LogFormat = destination ? 'json' : logFormat()): PinoLogger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'apptoken-server' },
    // Explicit serializers for the top level (they apply to child bindings too) and a formatter for the level
    // below, instead of pino's redact paths: the same fields hidden, at a fraction of the cost per line.
    formatters: { log: redactFields },
    serializers: {
      password: censor,
      token: censor,
      signingKey: censor,
      headers: redactHeaders,
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        address: req.ip,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      // An error's own enumerable fields are written too (a `password` on a validation error, say).
      err: (error: Error) => redactNested(pino.stdSerializers.err(error) as unknown as Record<string, unknown>),
    },
  };
  if (format === 'pretty') return pino(options, prettyStream(destination));
  return pino(options, destination ?? stdoutDestination());
}

/**
 * stdout, written synchronously (pino's default). When its reader goes away (`node dist/main.js | head`, a
 * collector that died) the next write fails with EPIPE: the process exits then, as a Unix program does on
 * SIGPIPE. Left unhandled, the error became an exit whose final log flush retried the write forever
 * (sonic-boom retries any failed synchronous flush): a hung process still holding its port.
 */
function stdoutDestination(): DestinationStream {
  return (sharedStdout ??= openStdout());
}

/** One per process, whatever the number of loggers (the e2e specs build many applications in one process). */
let sharedStdout: DestinationStream | undefined;

function openStdout(): DestinationStream {
  const stdout = pino.destination({ fd: 1, sync: true });
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdout.destroy();
    process.exit(1);
  });
  return writtenPerTurn(stdout);
}

/**
 * The lines logged in one turn of the event loop, written to `target` together at the end of that turn
 * (setImmediate) in one write. Under load a turn serves several requests, and a write(2) per access line cost
 * about 13 us of the 78 us an `alive` request cost, the largest part of it. A line still reaches the target
 * within the turn it was logged in (no timer, no size threshold: nothing waits for more lines), and what is
 * pending is written when the process exits (process.exit, an uncaught exception).
 */
export function writtenPerTurn(target: { write(text: string): unknown; destroyed?: boolean }): DestinationStream & { flush(done?: (error?: Error) => void): void } {
  let pending = '';
  let scheduled = false;
  const writePending = (): void => {
    scheduled = false;
    if (pending === '') return;
    const text = pending;
    pending = '';
    if (target.destroyed !== true) target.write(text);
  };
  process.on('exit', writePending);
  return {
    write(line: string): void {
      pending += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(writePending);
      }
    },
    /** pino's logger.flush(). */
    flush(done?: (error?: Error) => void): void {
      writePending();
      done?.();
    },
  };
}

/** The label of the request id in every line logged while serving a request (as `requestId` in error bodies). */
export const REQUEST_ID_LOG_LABEL = 'requestId';

/** A JWT (its header starts `eyJ`), with its dots written any way a client or proxy might: `.`, `+`, space, `/`, `,`. */
const JWT_LIKE = /eyJ[\w-]*(?:[.+\s/,;:]+[\w-]+){0,2}/g;
/** A session id (43 base64url characters) or any other secret-sized run. */
const SECRET_LIKE = /[\w-]{40,}/g;

/** The text percent-decoded until it stops changing (at most three times: %252E is a dot too). */
function decodedForm(text: string): string {
  let current = text;
  for (let round = 0; round < 3 && current.includes('%'); round++) {
    const next = current.replace(/%[0-9a-f]{2}/gi, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
    if (next === current) break;
    current = next;
  }
  return current;
}

/**
 * The text with anything shaped like a JWT (a token sent in a path by mistake) or a session id masked, judged on
 * its percent-decoded form (an encoded letter or dot, once or twice, does not hide one). Unchanged when there is
 * nothing to mask; masked, it is shown decoded.
 */
export function maskTokens(text: string): string {
  const decoded = text.includes('%') ? decodedForm(text) : text;
  if (!decoded.includes('eyJ') && !/[\w-]{40}/.test(decoded)) return text;
  return decoded.replace(JWT_LIKE, '[REDACTED]').replace(SECRET_LIKE, '[REDACTED]');
}

/** The request's path without its query string, tokens masked. */
export function loggablePath(url: string): string {
  const q = url.indexOf('?');
  return maskTokens((q === -1 ? url : url.slice(0, q)).slice(0, 512));
}

/** The fields of one access-log line. Never headers, cookies, query strings or bodies. */
export function accessLogFields(request: FastifyRequest, reply: FastifyReply): Record<string, unknown> {
  const principal = request.principal;
  return {
    method: request.method,
    route: request.routeOptions.url,
    path: loggablePath(request.url),
    status: reply.statusCode,
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    identityId: principal?.identityId,
    tokenId: principal?.tokenId,
    address: clientAddress(request.ip, request.socket?.remoteAddress),
  };
}

/**
 * fastify's request logging, as one line per request: fastify already gives each request a child logger
 * bound to its id, and calls this when the response is done. `disableRequestLogging` (LOG_REQUESTS=false)
 * turns the lines off.
 */
export class AccessLogController extends LogController {
  /** The completed line says all; a second line per request would double the log. */
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const log = request.log as PinoLogger;
    // The level first: below it (LOG_LEVEL=warn) the line's fields are not even gathered.
    if (this.isLogDisabled(request) || !log.isLevelEnabled(error ? 'error' : 'info')) return;
    if (error) log.error({ ...accessLogFields(request, reply), err: error }, 'request errored');
    else log.info(accessLogFields(request, reply), 'request completed');
  }

  /** Nest answers unknown routes; its 404 has an access line like any other. */
  override routeNotFound(): void {}
}

/** The logger of the request being served (fastify's child logger, bound to its request id). */
const requestLogs = new AsyncLocalStorage<PinoLogger>();

/**
 * Serves each request inside an AsyncLocalStorage holding its fastify logger, so that Nest Logger calls made
 * while serving it carry its request id. A fastify onRequest hook, where nestjs-pino's LoggerModule did the same
 * as Nest middleware through middie (its route matching and URL decoding on every request): ~6 us a request.
 * Register it before any other hook.
 */
export function bindRequestLogger(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => {
    requestLogs.run(request.log as PinoLogger, done);
  });
}

/** Runs `work` (and what it starts) outside the request being served: background work logs without its request id. */
export function outsideRequest<T>(work: () => T): T {
  return requestLogs.exit(work);
}

/** The logger of the request being served; undefined outside a request. */
export function requestScopedLogger(): PinoLogger | undefined {
  return requestLogs.getStore();
}

const NEST_STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/**
 * Routes Nest's logging (module start-up, exceptions, every `new Logger(...)` in a service) into the same
 * pino logger. While a request is served, into that request's logger, so the line carries its request id.
 */
export class PinoNestLogger implements LoggerService {
  constructor(
    private readonly root: PinoLogger,
    /** The logger of the request being served, if any (see bindRequestLogger). */
    private readonly requestLogger: () => PinoLogger | undefined = () => undefined,
  ) {}

  private get logger(): PinoLogger {
    return this.requestLogger() ?? this.root;
  }

  log(message: unknown, ...rest: unknown[]): void {
    const { context } = split(rest);
    // Nest's start-up chatter (each module and route) is debug detail, not news.
    this.write(context && NEST_STARTUP_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  /** Nest calls error(message, stack?, context?); an object message is logged as fields. */
  error(message: unknown, ...rest: unknown[]): void {
    const context = rest.length > 0 ? (rest[rest.length - 1] as string | undefined) : undefined;
    const detail = rest.length > 1 ? rest[0] : undefined;
    if (message instanceof Error) {
      this.logger.error({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger.error({ context, ...message }, typeof detail === 'string' ? detail : 'error');
    } else {
      this.logger.error({ context, stack: typeof detail === 'string' ? detail : undefined }, String(message));
    }
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** `logger.warn(fields, 'message')` arrives as (fields, 'message', context): the message is the line's msg. */
  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]): void {
    const { context, text } = split(rest);
    if (typeof message === 'object' && message !== null) {
      if (text !== undefined) this.logger[level]({ context, ...message }, text);
      else this.logger[level]({ context, ...message });
    } else {
      this.logger[level]({ context }, String(message));
    }
  }
}

/** Nest passes (message, ...params, context) when the Logger has a context; a leading string param is the message. */
function split(rest: unknown[]): { context: string | undefined; text: string | undefined } {
  const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
  const text = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
  return { context, text };
}
