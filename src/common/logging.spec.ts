import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessLogController, accessLogFields, createLogger, loggablePath, logFormat, PinoNestLogger, redactUrl, writtenPerTurn } from './logging.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  return { lines, stream: new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) }) };
}

describe('redactUrl', () => {
  it('hides secret-looking query values and keeps the rest', () => {
    expect(redactUrl('/api/v1/x?token=abc&page=2&access_token=def&Password=p')).toBe(
      '/api/v1/x?token=[REDACTED]&page=2&access_token=[REDACTED]&Password=[REDACTED]',
    );
    expect(redactUrl('/api/v1/alive')).toBe('/api/v1/alive');
  });
});

describe('createLogger', () => {
  it('redacts credentials in headers and secret fields, wherever a log call puts them', () => {
    const captured: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (captured.push(String(chunk)), done()) }));
    logger.info({ headers: { authorization: 'Bearer eyJ.secret.sig', cookie: 'apptoken_session=s3cr3t' }, body: { password: 'hunter22', token: 'eyJ.t.s' } }, 'request');
    logger.info({ req: { method: 'GET', url: '/x?token=eyJ.query' } }, 'with a request');
    const text = captured.join('');
    expect(text).not.toContain('eyJ');
    expect(text).not.toContain('s3cr3t');
    expect(text).not.toContain('hunter22');
    expect(text).toContain('[REDACTED]');
  });

  it('redacts a secret in a child logger\'s bindings, an error\'s own fields and a nested headers object, and leaves the caller\'s objects alone', () => {
    const { lines, stream } = capture();
    const logger = createLogger('info', stream);
    const fields = { job: { token: 'eyJ.nested.t', signingKey: 'k3y-material' }, upstream: { headers: { authorization: 'Bearer eyJ.up.s' } } };
    logger.child({ token: 'eyJ.bound.t', requestId: 'r-9' }).info(fields, 'with bindings');
    logger.error({ err: Object.assign(new Error('refused'), { password: 'hunter22' }) }, 'failed');
    const text = lines.join('');
    expect(text).not.toMatch(/eyJ|k3y-material|hunter22/);
    expect(JSON.parse(lines[0])).toMatchObject({ requestId: 'r-9', token: '[REDACTED]', job: { token: '[REDACTED]', signingKey: '[REDACTED]' } });
    expect(JSON.parse(lines[1])).toMatchObject({ err: { message: 'refused', password: '[REDACTED]' } });
    expect(fields.job.token).toBe('eyJ.nested.t');
  });
});

describe('PinoNestLogger', () => {
  it('gives a line logged as (fields, message) through a Nest Logger its msg and its context', () => {
    const captured: string[] = [];
    const pino = createLogger('info', new Writable({ write: (chunk, _encoding, done) => (captured.push(String(chunk)), done()) }));
    Logger.overrideLogger(new PinoNestLogger(pino));
    try {
      const logger = new Logger('AuthService');
      logger.warn({ address: '203.0.113.7', password: 'hunter22' }, 'sign-in throttled');
      logger.log('plain message');
      logger.debug({ only: 'fields' });
    } finally {
      Logger.overrideLogger(false);
    }
    const [throttled, plain] = captured.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(throttled).toMatchObject({ level: 40, msg: 'sign-in throttled', context: 'AuthService', address: '203.0.113.7', password: '[REDACTED]' });
    expect(plain).toMatchObject({ level: 30, msg: 'plain message', context: 'AuthService' });
    expect(captured.join('')).not.toContain('hunter22');
  });
});

describe('logFormat', () => {
  it('is pretty on a terminal and JSON on anything else', () => {
    expect(logFormat({ isTTY: true })).toBe('pretty');
    expect(logFormat({ isTTY: false })).toBe('json');
    expect(logFormat({})).toBe('json');
  });

  it('pretty lines are text for a person, JSON lines are JSON, and both redact', () => {
    const pretty = capture();
    createLogger('info', pretty.stream, 'pretty').info({ status: 200, password: 'hunter22' }, 'request completed');
    const json = capture();
    createLogger('info', json.stream).info({ status: 200 }, 'request completed');
    const text = pretty.lines.join('');
    expect(text).toContain('request completed');
    expect(text.trimStart().startsWith('{')).toBe(false);
    expect(text).not.toContain('hunter22');
    expect(JSON.parse(json.lines[0])).toMatchObject({ status: 200, msg: 'request completed' });
  });
});

describe('loggablePath', () => {
  it('drops the query string and masks anything shaped like a token', () => {
    expect(loggablePath('/api/v1/apptoken?search=secret&page=2')).toBe('/api/v1/apptoken');
    expect(loggablePath('/api/v1/apptoken/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl/x')).toBe('/api/v1/apptoken/[REDACTED]/x');
    // Dots written as %2E do not hide a token.
    expect(loggablePath('/nope/eyJhbGciOiJIUzI1NiJ9%2EeyJzdWIiOiJ4In0%2ec2lnbmF0dXJl')).toBe('/nope/[REDACTED]');
  });

  it('masks tokens however they are encoded, and session ids (found from outside)', () => {
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl';
    const variants = [
      `/y/%65${token.slice(1)}`, // the first letter percent-encoded
      `/y/${token.replaceAll('.', '%252E')}`, // dots encoded twice
      `/y/${token.replaceAll('.', '+')}`,
      `/y/${token.replaceAll('.', '%20')}`,
      `/y/${token.replaceAll('.', '/')}`,
    ];
    for (const path of variants) {
      const logged = loggablePath(path);
      expect(logged).toBe('/y/[REDACTED]');
      expect(logged).not.toContain('c2lnbmF0dXJl');
    }
    const sessionId = 'Qm9vdHN0cmFwcGVkLXNlc3Npb24taWQtdmFsdWUtNDM';
    expect(sessionId).toHaveLength(43);
    expect(loggablePath(`/api/v1/identity/${sessionId}`)).toBe('/api/v1/identity/[REDACTED]');
    // Ordinary paths stay as they are, encoded or not.
    expect(loggablePath('/api/v1/identity/42')).toBe('/api/v1/identity/42');
    expect(loggablePath('/a%20b/c')).toBe('/a%20b/c');
  });
});

describe('AccessLogController', () => {
  const request = (principal?: object) =>
    ({
      method: 'GET',
      url: '/api/v1/identity/7?token=eyJ.q.s',
      routeOptions: { url: '/api/v1/identity/:id' },
      ip: '203.0.113.9',
      socket: { remoteAddress: '127.0.0.1' },
      principal,
      headers: { authorization: 'Bearer eyJ.h.s', cookie: 'apptoken_session=s3cr3t' },
    }) as unknown as FastifyRequest;
  const reply = { statusCode: 404, elapsedTime: 1.23456 } as FastifyReply;

  it('has the route pattern, the path without its query, the caller and nothing from the headers', () => {
    expect(accessLogFields(request({ identityId: 3, tokenId: 9 }), reply)).toEqual({
      method: 'GET',
      route: '/api/v1/identity/:id',
      path: '/api/v1/identity/7',
      status: 404,
      durationMs: 1.23,
      identityId: 3,
      tokenId: 9,
      address: '203.0.113.9',
    });
  });

  it('writes one line per request through the request logger, none when disabled', () => {
    const { lines, stream } = capture();
    const log = createLogger('info', stream).child({ requestId: 'r-1' });
    const withLog = Object.assign(request(), { log });
    const on = new AccessLogController({ disableRequestLogging: false });
    on.incomingRequest();
    on.requestCompleted(null, withLog, reply);
    new AccessLogController({ disableRequestLogging: true }).requestCompleted(null, withLog, reply);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 30, requestId: 'r-1', msg: 'request completed', route: '/api/v1/identity/:id', status: 404 });
    expect(lines[0]).not.toMatch(/eyJ|s3cr3t/);
  });
});

describe('PinoNestLogger inside a request', () => {
  it('writes through the request logger when there is one, else through the root', () => {
    const { lines, stream } = capture();
    const root = createLogger('info', stream);
    let current: typeof root | undefined = root.child({ requestId: 'r-2' }) as typeof root;
    const nest = new PinoNestLogger(root, () => current);
    nest.log('inside', 'Service');
    current = undefined;
    nest.log('outside', 'Service');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ msg: 'inside', requestId: 'r-2', context: 'Service' });
    expect(outside.requestId).toBeUndefined();
  });
});

describe('writtenPerTurn', () => {
  const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

  it('writes the lines of one event-loop turn in one write, at the end of that turn, in order', async () => {
    const writes: string[] = [];
    const logger = createLogger('info', writtenPerTurn({ write: (text) => writes.push(text) }));
    logger.info('first');
    logger.info('second');
    expect(writes).toEqual([]);
    await turnEnd();
    expect(writes).toHaveLength(1);
    expect(writes[0].split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['first', 'second']);
    logger.info('third');
    await turnEnd();
    expect(writes).toHaveLength(2);
    expect(writes[1]).toContain('"third"');
  });

  it('writes what is pending when the process exits, and on logger.flush()', () => {
    const before = new Set(process.listeners('exit'));
    const writes: string[] = [];
    const logger = createLogger('info', writtenPerTurn({ write: (text) => writes.push(text) }));
    const onExit = process.listeners('exit').filter((listener) => !before.has(listener));
    try {
      expect(onExit).toHaveLength(1);
      logger.info('logged just before process.exit()');
      (onExit[0] as (code: number) => void)(1);
      expect(writes.join('')).toContain('logged just before process.exit()');
      logger.info('flushed');
      logger.flush();
      expect(writes.join('')).toContain('"flushed"');
      expect(writes).toHaveLength(2);
    } finally {
      for (const listener of onExit) process.removeListener('exit', listener);
    }
  });

  it('writes nothing into a destination already destroyed (stdout after EPIPE)', async () => {
    const writes: string[] = [];
    const destination = writtenPerTurn({ write: (text) => writes.push(text), destroyed: true });
    destination.write('line\n');
    await turnEnd();
    expect(writes).toEqual([]);
  });
});
