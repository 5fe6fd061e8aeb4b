import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isForeignKeyViolation, isTransactionConflict } from './database-errors.js';
import { defaultErrorCode, ErrorCode, isErrorCode } from './error-code.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  code: ErrorCode;
  message: string;
  requestId?: string;
  [extra: string]: unknown;
}

/** Messages for fastify's own errors (body parsing, limits), phrased for the caller. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'Request body is larger than the 100 kB limit',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported Content-Type; send application/json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'Body is empty but Content-Type is application/json; send a JSON object or no Content-Type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body',
};

/** Connection-level failures of PostgreSQL (or the path to it): the service is unavailable, not broken. */
const DATABASE_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006']);
const DATABASE_UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|does not allow connections|not currently accepting connections|Client has encountered a connection error|Connection is not established/i;

/** What of an error may be logged: never a failed query's text or parameters (password hashes, tokens). */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 500) };
  const { code } = error as { code?: unknown };
  return { type: error.name, message: error.message.slice(0, 500), code: typeof code === 'string' ? code : undefined, stack: error.stack };
}

function isFastifyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('FST_');
}

export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; current && depth < 4; depth++) {
    const candidate = current as { code?: unknown; message?: unknown; severity?: unknown; driverError?: unknown; cause?: unknown };
    // FATAL ends the connection itself (refused at start-up, database closed, server shutting down).
    if (candidate.severity === 'FATAL' || candidate.severity === 'PANIC') return true;
    if (typeof candidate.code === 'string' && DATABASE_UNAVAILABLE_CODES.has(candidate.code)) return true;
    if (typeof candidate.message === 'string' && DATABASE_UNAVAILABLE_MESSAGES.test(candidate.message)) return true;
    current = candidate.driverError ?? candidate.cause;
  }
  return false;
}

/**
 * Turns anything thrown into `{statusCode, error, message}`. Client errors keep their message;
 * anything unexpected is logged with the request id and answered 500 without internals.
 */
export function toErrorBody(exception: unknown, request: FastifyRequest, logger: Logger): ErrorBody {
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const body: ErrorBody = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code: defaultErrorCode(status), message: exception.message };
    if (typeof response === 'object' && response !== null) {
      const { message, error, code, statusCode: _ignored, ...extra } = response as Record<string, unknown>;
      if (Array.isArray(message)) body.message = message.join('; ');
      else if (typeof message === 'string') body.message = message;
      if (typeof error === 'string') body.error = error;
      // Only a code of ours (ApiException); a library's own `code` field never reaches the body.
      if (isErrorCode(code)) body.code = code;
      Object.assign(body, extra);
    } else if (typeof response === 'string') {
      body.message = response;
    }
    // The fastify adapter hands fastify's own refusals (body parsing, length) over as an HttpException caused by them.
    if (status === 400 && isFastifyError(exception.cause)) body.code = ErrorCode.MALFORMED_BODY;
    if (status === 500) return internal(exception, request, logger, status);
    if (status > 500) body.requestId = request.id;
    return body;
  }
  if (isForeignKeyViolation(exception)) {
    // A concurrent change removed something this one refers to (a role deleted while it was being given).
    return { statusCode: 409, error: 'Conflict', code: ErrorCode.CONFLICT, message: 'Something this change refers to was removed meanwhile by another change; reload and retry' };
  }
  if (isTransactionConflict(exception)) {
    // PostgreSQL chose this transaction as a deadlock's (or a serialization race's) victim and rolled it back whole.
    logger.warn({ requestId: request.id, error: loggableError(exception) }, 'transaction conflict');
    return { statusCode: 409, error: 'Conflict', code: ErrorCode.CONFLICT, message: 'A concurrent change to the same records got in the way; nothing was changed; retry' };
  }
  if (isDatabaseUnavailable(exception)) {
    logger.warn({ requestId: request.id, error: loggableError(exception) }, 'database unavailable');
    return { statusCode: 503, error: 'Service Unavailable', code: ErrorCode.DATABASE_UNAVAILABLE, message: 'The database is unavailable; retry shortly', requestId: request.id };
  }
  const fastifyError = exception as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError?.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    const status = fastifyError.statusCode;
    let message = (fastifyError.code && FASTIFY_MESSAGES[fastifyError.code]) ?? fastifyError.message ?? 'Bad request';
    if (status === 400 && /JSON|Unexpected token|Expected/i.test(fastifyError.message ?? '')) {
      message = `Malformed JSON body: ${fastifyError.message}`;
    }
    // fastify's own refusals are about the body as sent (parsing, length, limit, media type).
    const code = status === 400 ? ErrorCode.MALFORMED_BODY : defaultErrorCode(status);
    return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
  }
  return internal(exception, request, logger, 500);
}

function internal(exception: unknown, request: FastifyRequest, logger: Logger, status: number): ErrorBody {
  logger.error({ requestId: request.id, method: request.method, path: request.routeOptions?.url, error: loggableError(exception) }, 'unexpected error');
  return {
    statusCode: status,
    error: STATUS_CODES[status] ?? 'Error',
    code: ErrorCode.INTERNAL_ERROR,
    message: `Unexpected error; quote request id ${request.id} to find it in the log`,
    requestId: request.id,
  };
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<FastifyRequest>();
    const reply = context.getResponse<FastifyReply>();
    const body = toErrorBody(exception, request, this.logger);
    const retryAfter = body.statusCode === 503 ? ((exception as { retryAfterSeconds?: number })?.retryAfterSeconds ?? 5) : (exception as { retryAfterSeconds?: number })?.retryAfterSeconds;
    if (retryAfter !== undefined) void reply.header('Retry-After', String(retryAfter));
    if (body.statusCode === 401) void reply.header('WWW-Authenticate', 'Bearer realm="AppToken Server"');
    void reply.status(body.statusCode).header('Cache-Control', 'no-store').send(body);
  }
}
