import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { SERVER_VERSION, wantsPlainText } from './server-version.js';

describe('the server version', () => {
  it("is package.json's", () => {
    expect(SERVER_VERSION).toBe(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
    expect(SERVER_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('is plain text only for a request that accepts text/plain and not JSON', () => {
    expect(wantsPlainText('text/plain')).toBe(true);
    expect(wantsPlainText('Text/Plain; charset=utf-8, text/html;q=0.8')).toBe(true);
    for (const accept of [undefined, '', '*/*', 'application/json', 'application/json, text/plain, */*', 'text/plain, application/*', 'text/html']) {
      expect(wantsPlainText(accept)).toBe(false);
    }
  });
});
