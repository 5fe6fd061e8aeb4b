import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
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

/**
 * The one structured logger. Headers that carry credentials and any field named like a secret are
 * redacted at the source, so no later log call can leak them.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): PinoLogger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'apptoken-server' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'headers.authorization',
        'headers.cookie',
        'password',
        'token',
        '*.password',
        '*.token',
        '*.signingKey',
      ],
      censor: '[REDACTED]',
    },
    serializers: {
      req: (req: { id?: string; method?: string; url?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url === undefined ? undefined : redactUrl(req.url),
        address: req.ip,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

const NEST_STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Routes Nest's own logging (module start-up, exceptions) into the same pino logger. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: PinoLogger) {}

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
