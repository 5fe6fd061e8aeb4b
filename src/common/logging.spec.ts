import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from './logging.js';

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
