import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { Logger } from '@nestjs/common';
import { createLogger, PinoNestLogger, redactUrl } from './logging.js';

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
