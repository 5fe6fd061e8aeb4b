import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONSOLE_DIR, CONSOLE_PAGES } from '../src/console/console-routes.js';
import { startApp, type TestApp } from './support/app.js';

const ROOT = join(import.meta.dirname, '..');

/** A GET with the path sent exactly as written: fetch would resolve `..` before sending it. */
function rawGet(baseUrl: string, path: string): Promise<{ status: number; contentType: string; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

/** The CSP directive's sources, e.g. directive(csp, 'script-src') → ["'self'"]. */
function directive(csp: string, name: string): string[] | undefined {
  const found = csp.split(';').map((part) => part.trim().split(/\s+/)).find(([key]) => key === name);
  return found?.slice(1);
}

/**
 * What in a built file makes the browser load something from another host: in HTML, src= on any element and
 * href= on <link>; in CSS, url() and @import; in JS, import() / import … from, fetch() and src: / url() in
 * strings. A plain https:// string (a link in an error message, a licence comment, an <a href>) loads nothing.
 */
const EXTERNAL = String.raw`(?:https?:)?//[^/'"\s)]`;
const LOADERS: Record<string, RegExp[]> = {
  '.html': [new RegExp(String.raw`\ssrc\s*=\s*["']?${EXTERNAL}`, 'gi'), new RegExp(String.raw`<link\b[^>]*\shref\s*=\s*["']?${EXTERNAL}`, 'gi')],
  '.css': [new RegExp(String.raw`url\(\s*["']?${EXTERNAL}`, 'gi'), new RegExp(String.raw`@import\s+(?:url\()?\s*["']?${EXTERNAL}`, 'gi')],
  '.js': [
    new RegExp(String.raw`\bimport\s*\(\s*["'\x60]${EXTERNAL}`, 'g'),
    new RegExp(String.raw`\b(?:import|from)\s*["'\x60]${EXTERNAL}`, 'g'),
    new RegExp(String.raw`\bfetch\s*\(\s*["'\x60]${EXTERNAL}`, 'g'),
    new RegExp(String.raw`\bsrc\s*[:=]\s*["'\x60]${EXTERNAL}`, 'g'),
    new RegExp(String.raw`url\(\s*\\?["']?${EXTERNAL}`, 'g'),
    new RegExp(String.raw`importScripts\s*\(\s*["'\x60]${EXTERNAL}`, 'g'),
  ],
};

describe('serving the console (no browser)', () => {
  let t: TestApp;
  let index: string;
  let assets: string[];

  beforeAll(async () => {
    if (!existsSync(join(CONSOLE_DIR, 'index.html'))) throw new Error(`${CONSOLE_DIR}/index.html is missing: run npm run build first`);
    t = await startApp();
    index = readFileSync(join(CONSOLE_DIR, 'index.html'), 'utf8');
    assets = [...index.matchAll(/\s(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([...CONSOLE_PAGES])('GET %s answers index.html with a strict Content-Security-Policy, revalidated on every load', async (path) => {
    const response = await t.http.get(path);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.text).toBe(index);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(directive(csp, 'script-src')).toEqual(["'self'"]);
    expect(directive(csp, 'style-src')).toEqual(["'self'"]);
    expect(directive(csp, 'frame-ancestors')).toEqual(["'none'"]);
    expect(directive(csp, 'default-src')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|wasm-unsafe-eval|\*/);
    expect(directive(csp, 'connect-src')).toEqual(["'self'"]);
  });

  it('serves every asset index.html references, cached as immutable', async () => {
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const response = await t.http.get(asset);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect(response.headers.get('cache-control')).toMatch(/immutable/);
      expect(response.headers.get('cache-control')).toMatch(/max-age=31536000/);
      expect(response.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
      expect(response.text).toBe(readFileSync(join(CONSOLE_DIR, asset), 'utf8'));
    }
  });

  it('answers an unknown path or asset with a JSON 404, not the console', async () => {
    for (const path of ['/nope', '/tokens/extra', '/index.html', '/assets/nope.js']) {
      const response = await t.http.get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.headers.get('content-type')).toMatch(/json/);
      expect(response.text).not.toContain('<div id="root">');
    }
  });

  it('never serves a file from outside the assets folder, however the path is written', async () => {
    const secrets = [index, readFileSync(join(ROOT, 'package.json'), 'utf8'), readFileSync(join(ROOT, 'dist', 'main.js'), 'utf8')];
    const paths = [
      '/assets/../index.html',
      '/assets/%2e%2e/index.html',
      '/assets/%2E%2E/index.html',
      '/assets/..%2findex.html',
      '/assets/..%2Findex.html',
      '/assets/%2e%2e%2findex.html',
      '/assets/..%5cindex.html',
      '/assets/..\\index.html',
      '/assets/%252e%252e/index.html',
      '/assets/....//index.html',
      '/assets/..;/index.html',
      '/assets/%c0%ae%c0%ae/index.html',
      '/assets/../../main.js',
      '/assets/..%2f..%2fmain.js',
      '/assets/../../../package.json',
      '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/assets/',
      '/assets//etc/passwd',
      '/assets/%00../index.html',
    ];
    for (const path of paths) {
      const response = await rawGet(t.baseUrl, path);
      expect({ path, served: response.status >= 200 && response.status < 300 }).toEqual({ path, served: false });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      for (const secret of secrets) expect(response.body.includes(secret.slice(0, 200))).toBe(false);
      expect(response.body).not.toMatch(/root:x:0:0/);
    }
  });

  it('still serves Swagger at /swagger and the API at /api', async () => {
    const swagger = await t.http.get('/swagger');
    expect(swagger.status).toBe(200);
    expect(swagger.headers.get('content-type')).toMatch(/text\/html/);
    expect(swagger.text).toMatch(/swagger/i);
    const openapi = await t.http.get('/swagger/json');
    expect(openapi.status).toBe(200);
    expect(openapi.body).toHaveProperty('openapi');
    const alive = await t.http.get('/api/v1/alive');
    expect(alive.status).toBe(200);
    expect(alive.headers.get('content-type')).toMatch(/json/);
    const me = await t.http.get('/api/v1/identity/my');
    expect(me.status).toBe(401);
    expect(me.headers.get('content-type')).toMatch(/json/);
    const unknown = await t.http.get('/api/v1/no-such-route');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/json/);
    expect(unknown.text).not.toContain('<div id="root">');
  });

  it('builds a bundle that loads nothing from another host', () => {
    const found: string[] = [];
    for (const file of filesUnder(CONSOLE_DIR)) {
      const kind = Object.keys(LOADERS).find((ext) => file.endsWith(ext));
      if (!kind) continue;
      const text = readFileSync(file, 'utf8');
      for (const pattern of LOADERS[kind]) {
        for (const match of text.matchAll(pattern)) found.push(`${relative(CONSOLE_DIR, file)}: …${text.slice(Math.max(0, match.index - 40), match.index + 80)}…`);
      }
    }
    expect(found).toEqual([]);
  });

  it('catches an outside load in each kind of file (the scan above can fail)', () => {
    const hit = (kind: string, text: string) => LOADERS[kind].some((p) => new RegExp(p.source, p.flags).test(text));
    expect(hit('.html', '<script type="module" src="https://cdn.example.com/x.js"></script>')).toBe(true);
    expect(hit('.html', '<link rel="stylesheet" href="//fonts.example.com/css">')).toBe(true);
    expect(hit('.html', '<a href="https://example.com/docs">docs</a>')).toBe(false);
    expect(hit('.css', '@font-face{src:url(https://fonts.example.com/f.woff2)}')).toBe(true);
    expect(hit('.css', '@import "https://example.com/a.css";')).toBe(true);
    expect(hit('.css', '.x{background:url(data:image/svg+xml,%3Csvg%3E)}')).toBe(false);
    expect(hit('.js', 'await import("https://esm.example.com/mod.js")')).toBe(true);
    expect(hit('.js', 'fetch(`https://api.example.com/x`)')).toBe(true);
    expect(hit('.js', 'e.src="https://example.com/p.gif"')).toBe(true);
    expect(hit('.js', 'throw Error("see https://react.dev/errors/"+n)')).toBe(false);
    expect(hit('.js', 'fetch("/api/v1/identity/my")')).toBe(false);
  });

  it('keeps the built console out of git: dist/ is ignored and nothing built is committed', () => {
    let tracked: string;
    try {
      tracked = execFileSync('git', ['ls-files', '--', 'dist', 'console'], { cwd: ROOT, encoding: 'utf8' });
    } catch {
      // eslint-disable-next-line no-console
      console.warn('console-serving.e2e-spec: not a git checkout; the check that the build is not committed was skipped');
      return;
    }
    const files = tracked.split('\n').filter(Boolean);
    expect(files.filter((f) => f.startsWith('dist/'))).toEqual([]);
    // console/ holds source only: no bundle, no hashed asset, no build folder.
    expect(files.filter((f) => /(^|\/)(dist|build|console-ui)\/|-[A-Za-z0-9_-]{8}\.(js|css)$/.test(f))).toEqual([]);
    expect(execFileSync('git', ['check-ignore', 'dist/console-ui/index.html'], { cwd: ROOT, encoding: 'utf8' }).trim()).toBe('dist/console-ui/index.html');
  });
});
