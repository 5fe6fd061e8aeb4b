import { describe, expect, it } from '@jest/globals';
import { BadRequestException, HttpException, HttpStatus, Logger, NotFoundException } from '@nestjs/common';
import { ApiException, ErrorCode } from './error-code.js';
import type { FastifyRequest } from 'fastify';
import { QueryFailedError } from 'typeorm';
import { isDatabaseUnavailable, toErrorBody } from './http-exception.filter.js';

const request = { id: 'req-1', method: 'GET', routeOptions: { url: '/x' } } as unknown as FastifyRequest;
const logged: unknown[] = [];
const logger = { error: (...args: unknown[]) => logged.push(args), warn: () => undefined } as unknown as Logger;

describe('toErrorBody', () => {
  it('keeps a client error\'s message and joins validation messages', () => {
    expect(toErrorBody(new NotFoundException('identity 4 not found'), request, logger)).toEqual({ statusCode: 404, error: 'Not Found', code: 'NOT_FOUND', message: 'identity 4 not found' });
    expect(toErrorBody(new BadRequestException(['a is bad', 'b is bad']), request, logger).message).toBe('a is bad; b is bad');
  });

  it('takes the code of an ApiException, ignores a foreign code field, and falls back to the status\'s code', () => {
    const expired = toErrorBody(new ApiException(HttpStatus.UNAUTHORIZED, ErrorCode.TOKEN_EXPIRED, 'Invalid app token: expired', { errorMessage: 'x' }), request, logger);
    expect(expired).toEqual({ statusCode: 401, error: 'Unauthorized', code: 'TOKEN_EXPIRED', message: 'Invalid app token: expired', errorMessage: 'x' });
    expect(toErrorBody(new HttpException({ message: 'm', code: 'SOMETHING_ELSE' }, 409), request, logger).code).toBe('CONFLICT');
    expect(toErrorBody(new HttpException('busy', 503), request, logger).code).toBe('SERVICE_UNAVAILABLE');
    expect(toErrorBody(Object.assign(new Error('Unexpected token } in JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), request, logger).code).toBe('MALFORMED_BODY');
    expect(toErrorBody(Object.assign(new Error('too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), request, logger).code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers an unexpected error with 500, the request id and no internals, and logs it', () => {
    const body = toErrorBody(new TypeError('cannot read properties of undefined (secret detail)'), request, logger);
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', code: 'INTERNAL_ERROR', message: 'Unexpected error; quote request id req-1 to find it in the log', requestId: 'req-1' });
    expect(JSON.stringify(body)).not.toContain('secret detail');
    expect(logged).toHaveLength(1);
  });

  it('logs no query text or parameters of a failed query (they can hold password hashes)', () => {
    const failed = Object.assign(new Error('value too long'), { query: 'INSERT INTO identity ...', parameters: ['$argon2id$v=19$secret'], code: '22001' });
    logged.length = 0;
    toErrorBody(failed, request, logger);
    expect(JSON.stringify(logged)).not.toContain('argon2id');
    expect(JSON.stringify(logged)).not.toContain('INSERT INTO');
    expect(JSON.stringify(logged)).toContain('value too long');
  });

  it('answers a foreign-key violation (what a change refers to was removed meanwhile) with 409, not 500', () => {
    const driverError = Object.assign(new Error('insert or update on table "app_token_role" violates foreign key constraint'), { code: '23503' });
    const body = toErrorBody(new QueryFailedError('INSERT INTO app_token_role ...', [1, 2], driverError), request, logger);
    expect(body.statusCode).toBe(409);
    expect(body.message).toMatch(/removed meanwhile/);
    expect(JSON.stringify(body)).not.toContain('app_token_role');
  });

  it('answers a deadlock or serialization failure (this transaction was rolled back whole) with 409 and no internals, not 500', () => {
    for (const code of ['40P01', '40001']) {
      const driverError = Object.assign(new Error('deadlock detected: Process 1 waits for ShareLock on transaction 2 of app_token'), { code });
      const body = toErrorBody(new QueryFailedError('UPDATE app_token ...', [1], driverError), request, logger);
      expect(body).toEqual({ statusCode: 409, error: 'Conflict', code: 'CONFLICT', message: 'A concurrent change to the same records got in the way; nothing was changed; retry' });
    }
  });

  it('answers a lost database connection with 503', () => {
    const driverError = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(toErrorBody(driverError, request, logger)).toMatchObject({ statusCode: 503, code: 'DATABASE_UNAVAILABLE' });
    expect(isDatabaseUnavailable({ message: 'x', driverError: { severity: 'FATAL', code: '57P01' } })).toBe(true);
    expect(isDatabaseUnavailable(new Error('duplicate key value'))).toBe(false);
  });
});
