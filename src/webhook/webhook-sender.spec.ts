import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import { loadConfig } from '../config/app-config.js';
import { WebhookSender } from './webhook-sender.js';

/** A sender under WEBHOOK_ALLOWED_HOSTS, whose resolver answers from `answers` in turn (a rebinding DNS). */
function sender(allowed: string, answers: string[][]): { sender: WebhookSender; lookups: string[] } {
  const s = new WebhookSender(loadConfig({ WEBHOOK_ALLOWED_HOSTS: allowed, WEBHOOK_TIMEOUT_SECONDS: '5' }));
  const lookups: string[] = [];
  s.resolve = (host) => {
    lookups.push(host);
    const next = answers.shift() ?? ['203.0.113.1'];
    return Promise.resolve(next.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
  return { sender: s, lookups };
}

describe('WebhookSender', () => {
  let server: http.Server;
  let port: number;
  const hosts: string[] = [];
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hosts.push(request.headers.host ?? '');
      request.resume();
      request.on('end', () => response.writeHead(200).end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));

  it('connects to the address it judged, resolving the name once (no second lookup to rebind)', async () => {
    // The name resolves to loopback (allowed here) once, then to a metadata address: only the first answer is used.
    const { sender: s, lookups } = sender('127.0.0.1', [['127.0.0.1'], ['169.254.169.254']]);
    const result = await s.send(`http://hooks.rebind.test:${port}/x`, {}, '{}', new AbortController().signal);
    expect(result).toMatchObject({ statusCode: 200, responseBody: 'ok', error: null });
    expect(lookups).toEqual(['hooks.rebind.test']);
    expect(hosts.at(-1)).toBe(`hooks.rebind.test:${port}`);
  });

  it('refuses a name when any of its addresses is refused', async () => {
    const { sender: s } = sender('*', [['8.8.8.8', '127.0.0.1'], ['8.8.8.8', '127.0.0.1']]);
    const result = await s.send(`http://mixed.test:${port}/x`, {}, '{}', new AbortController().signal);
    expect(result.statusCode).toBeNull();
    expect(result.error).toContain('mixed.test (127.0.0.1) is not a public address (loopback)');
    await expect(s.check(`http://mixed.test:${port}/x`)).rejects.toThrow('loopback');
  });

  it('accepts saving a name that does not resolve (.invalid never does), and fails the attempt', async () => {
    const s = new WebhookSender(loadConfig({}));
    await expect(s.check('https://no-such-host.invalid/')).resolves.toBeUndefined();
    const result = await s.send('https://no-such-host.invalid/', {}, '{}', new AbortController().signal);
    expect(result.error).toContain('no-such-host.invalid does not resolve');
  });
});
