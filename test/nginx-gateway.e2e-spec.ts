import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ADMIN_PASSWORD, startApp, TEST_SIGNING_KEY, type TestApp } from './support/app.js';
import { HttpClient } from './support/http.js';
import { freePort, renderTemplate, startExampleUpstream, startNginx, type RunningNginx } from './support/nginx.js';

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
const haveNginx = onPath('nginx');
const haveCurlTools = onPath('curl') && onPath('jq') && onPath('openssl');
if (!haveNginx) process.stdout.write('SKIPPED: the nginx gateway spec needs nginx on the PATH (.ci/run installs nginx-light)\n');
if (haveNginx && !haveCurlTools) process.stdout.write('SKIPPED: the curl example needs curl, jq and openssl on the PATH\n');

/** A request whose path is sent exactly as written (fetch would resolve dot segments first, as curl --path-as-is does not). */
function rawRequest(base: string, method: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: any = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: keep the text
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

(haveNginx ? describe : describe.skip)('a real nginx gateway (auth_request) in front of an upstream service', () => {
  let t: TestApp;
  let dir: string;
  let nginx: RunningNginx;
  let upstream: ChildProcess;
  let gateway: HttpClient;
  let gatewayUrl: string;
  let session: string;
  let payrollToken: { id: number; token: string };
  let readerToken: string;
  let ruleId: number;

  beforeAll(async () => {
    t = await startApp();
    dir = await mkdtemp(path.join(os.tmpdir(), 'apptoken-nginx-'));

    const example = await startExampleUpstream();
    upstream = example.child;
    const port = await freePort();
    gatewayUrl = `http://127.0.0.1:${port}`;
    const server = await renderTemplate('apptoken-gateway.conf.template', { GATEWAY_PORT: `127.0.0.1:${port}`, APPTOKEN_URL: t.baseUrl, UPSTREAM_URL: `http://127.0.0.1:${example.port}` });
    nginx = await startNginx(dir, { 'gateway.conf': server }, [port], ['access_log off;']);
    gateway = new HttpClient(gatewayUrl);

    session = await t.http.signin('admin', ADMIN_PASSWORD);
    await t.http.post('/api/v1/role', { name: 'Payroll' }, { session });
    const bot = (await t.http.post('/api/v1/identity', { name: 'José Payroll-Bot', source: 'service', roles: ['Payroll'] }, { session })).body;
    const reader = (await t.http.post('/api/v1/identity', { name: 'auditor', source: 'service', roles: ['Reader'] }, { session })).body;
    payrollToken = (await t.http.get(`/api/v1/apptoken/grant/${bot.id}`, { session })).body;
    readerToken = (await t.http.get(`/api/v1/apptoken/grant/${reader.id}`, { session })).body.token;
    ruleId = (await t.http.post('/api/v1/endpoint', { url: '/payroll/*', method: ['GET', 'POST'], role: 'Payroll' }, { session })).body.id;
    await t.http.post('/api/v1/endpoint', { url: '/public/*', authentication: false }, { session });
  });

  afterAll(async () => {
    nginx?.stop();
    upstream?.kill();
    await t?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('passes a token with the custom role through, and the upstream sees who is calling (not the token)', async () => {
    const response = await gateway.get('/payroll/2026/11?format=json', { token: payrollToken.token, headers: { 'X-Identity-Name': 'admin', 'X-Identity-Roles': 'Administrator' } });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      method: 'GET',
      url: '/payroll/2026/11?format=json',
      identity: { name: 'José Payroll-Bot', id: expect.any(String), roles: ['Payroll'] },
      authorization: null,
      methodOverride: null,
      rewriteHeaders: [],
    });
    expect((await gateway.post('/payroll/run', {}, { token: payrollToken.token })).status).toBe(200);
  });

  it('refuses a token without the role (403), and no token (401), with JSON bodies', async () => {
    const forbidden = await gateway.get('/payroll/2026/11', { token: readerToken });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ statusCode: 403 });
    const unauthorized = await gateway.get('/payroll/2026/11');
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // A method the rule does not list, and a path no rule matches.
    expect((await gateway.request('DELETE', '/payroll/2026/11', { token: payrollToken.token })).status).toBe(403);
    expect((await gateway.get('/elsewhere', { token: payrollToken.token })).status).toBe(403);
    // Encodings and case do not slip past the rule (dot segments: see the raw-path tests below).
    expect((await gateway.get('/PAYROLL/2026', { token: readerToken })).status).toBe(403);
    expect((await gateway.get('/payroll%2F2026', { token: readerToken })).status).toBe(400);
    // A client cannot tell the verify route which request to judge.
    const spoofed = await gateway.get('/payroll/2026', { token: readerToken, headers: { 'X-Forwarded-Uri': '/public/x', 'X-Forwarded-Method': 'GET', 'X-Original-URI': '/public/x' } });
    expect(spoofed.status).toBe(403);
  });

  describe('judges exactly the path the upstream receives (issue 7, finding 1)', () => {
    let healthRule: number;
    beforeAll(async () => {
      healthRule = (await t.http.post('/api/v1/endpoint', { url: '/health', method: 'GET', authentication: false }, { session })).body.id;
    });
    afterAll(async () => {
      await t.http.delete(`/api/v1/endpoint/${healthRule}`, { session });
    });

    it('serves the canonical paths the rules allow, and the upstream receives them unchanged', async () => {
      const health = await rawRequest(gatewayUrl, 'GET', '/health');
      expect(health).toMatchObject({ status: 200, body: { url: '/health' } });
      const payroll = await rawRequest(gatewayUrl, 'GET', '/payroll/2026/11', { authorization: `Bearer ${payrollToken.token}` });
      expect(payroll).toMatchObject({ status: 200, body: { url: '/payroll/2026/11' } });
    });

    it.each([
      '/payroll/2026/11/../../../health',
      '/payroll/2026/%2e%2e/%2e%2e/health',
      '/payroll//../public/x',
      '/payroll/2026/.%2E/.%2e/health',
      '/public/..%2Fpayroll/x',
      '/payroll/%252e%252e/health',
      '/public/x/..;/..;/payroll/x',
      '/payroll%20/x',
      '/public/%EF%BC%8E%EF%BC%8E/payroll/x',
    ])('refuses %s with a 400 from the gateway; the upstream never sees it', async (rawPath) => {
      const anonymous = await rawRequest(gatewayUrl, 'GET', rawPath);
      expect(`${rawPath} ${anonymous.status}`).toBe(`${rawPath} 400`);
      expect(anonymous.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(anonymous.body.url).toBeUndefined();
      // A token with the role the resolved path would need changes nothing: the path itself is refused.
      const withToken = await rawRequest(gatewayUrl, 'GET', rawPath, { authorization: `Bearer ${payrollToken.token}` });
      expect(`${rawPath} ${withToken.status}`).toBe(`${rawPath} 400`);
    });

    it('refuses a client\'s path-rewrite headers, and strips the others towards the upstream', async () => {
      for (const name of ['X-Original-URL', 'X-Rewrite-URL']) {
        const response = await rawRequest(gatewayUrl, 'GET', '/public/x', { [name]: '/payroll/x' });
        expect(`${name} ${response.status}`).toBe(`${name} 400`);
      }
      const echoed = await rawRequest(gatewayUrl, 'GET', '/public/x', { 'X-Forwarded-Prefix': '/payroll', 'X-Forwarded-Uri': '/payroll/x' });
      expect(echoed).toMatchObject({ status: 200, body: { url: '/public/x', rewriteHeaders: [] } });
    });

    it('judges a trailing-slash path by the most specific rule covering it, not by a catch-all', async () => {
      const catchAll = (await t.http.post('/api/v1/endpoint', { url: '/*', authentication: true }, { session })).body.id;
      try {
        const reader = await rawRequest(gatewayUrl, 'GET', '/payroll/', { authorization: `Bearer ${readerToken}` });
        expect(reader.status).toBe(403);
        const bare = await rawRequest(gatewayUrl, 'GET', '/payroll', { authorization: `Bearer ${readerToken}` });
        expect(bare.status).toBe(403);
        const payroll = await rawRequest(gatewayUrl, 'GET', '/payroll/', { authorization: `Bearer ${payrollToken.token}` });
        expect(payroll).toMatchObject({ status: 200, body: { url: '/payroll/' } });
        // The catch-all still serves what no more specific rule covers.
        expect((await rawRequest(gatewayUrl, 'GET', '/elsewhere/', { authorization: `Bearer ${readerToken}` })).status).toBe(200);
      } finally {
        await t.http.delete(`/api/v1/endpoint/${catchAll}`, { session });
      }
    });

    it('judges method-override headers as the method they name, and strips them towards the upstream', async () => {
      const bearer = { authorization: `Bearer ${payrollToken.token}` };
      // /payroll/* allows GET and POST for Payroll: a GET that asks to be run as DELETE is refused.
      for (const name of ['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']) {
        const overridden = await rawRequest(gatewayUrl, 'GET', '/payroll/2026', { ...bearer, [name]: 'DELETE' });
        expect(`${name} ${overridden.status}`).toBe(`${name} 403`);
      }
      for (const query of ['_method=DELETE', '.method=DELETE', '[method=DELETE', '_method[]=DELETE', 'a=1;_method=DELETE']) {
        expect(`${query} ${(await rawRequest(gatewayUrl, 'POST', `/payroll/run?${query}`, bearer)).status}`).toBe(`${query} 403`);
      }
      // An override naming an allowed method passes, and the upstream does not receive the header.
      const allowed = await rawRequest(gatewayUrl, 'GET', '/payroll/2026', { ...bearer, 'X-HTTP-Method-Override': 'POST' });
      expect(allowed).toMatchObject({ status: 200, body: { method: 'GET', methodOverride: null } });
      // An override naming no method is a 400 from the gateway, not a 500.
      const garbage = await rawRequest(gatewayUrl, 'GET', '/payroll/2026', { ...bearer, 'X-HTTP-Method-Override': 'DELETE;x' });
      expect(garbage.status).toBe(400);
    });
  });

  it('lets a rule without authentication through with no token', async () => {
    const response = await gateway.get('/public/status');
    expect(response.status).toBe(200);
    expect(response.body.identity).toEqual({ name: null, id: null, roles: [] });
  });

  it('applies a rule changed through the API on the next request, with no nginx reload', async () => {
    expect((await gateway.get('/payroll/2026/11', { token: readerToken })).status).toBe(403);
    expect((await t.http.put(`/api/v1/endpoint/${ruleId}`, { role: ['Payroll', 'Reader'] }, { session })).status).toBe(200);
    expect((await gateway.get('/payroll/2026/11', { token: readerToken })).status).toBe(200);
    await t.http.put(`/api/v1/endpoint/${ruleId}`, { role: ['Payroll'] }, { session });
    expect((await gateway.get('/payroll/2026/11', { token: readerToken })).status).toBe(403);
  });

  it('refuses a revoked token', async () => {
    expect((await gateway.get('/payroll/x', { token: payrollToken.token })).status).toBe(200);
    await t.http.post(`/api/v1/apptoken/${payrollToken.id}/revoke`, undefined, { session });
    expect((await gateway.get('/payroll/x', { token: payrollToken.token })).status).toBe(401);
  });

  (haveCurlTools ? it : it.skip)('runs the curl example flow end to end (examples/curl/flow.sh)', async () => {
    const { stdout } = await promisify(execFile)('bash', ['examples/curl/flow.sh'], {
      env: { ...process.env, BASE_URL: t.baseUrl, GATEWAY_URL: gatewayUrl, ADMIN_USERNAME: 'admin', ADMIN_PASSWORD, SIGNING_KEY: TEST_SIGNING_KEY },
      timeout: 60_000,
    });
    expect(stdout).toContain('"name": "payroll-bot"');
    expect(stdout).toContain('after revoking: 401');
    expect(stdout).toContain('== 7. Migrate');
    expect(stdout).toMatch(/"identity": "payroll-bot",\s+"role": "Payroll"/);
    expect(stdout).toContain('signed out: 204');
    expect(stdout).not.toContain(ADMIN_PASSWORD);
  });
});
