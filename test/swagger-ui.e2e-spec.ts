import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApp, type TestApp } from './support/app.js';
import { CHROMIUM, haveChromium, need, TestBrowser, type WatchedPage } from './support/browser.js';

/**
 * Swagger UI shares the console's origin and session cookie: it is served under a Content-Security-Policy of
 * its own, and still works under it in a real browser.
 */
describe('Swagger UI', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is served with a Content-Security-Policy: scripts from this origin only, no eval, no framing', async () => {
    for (const path of ['/swagger', '/swagger/swagger-ui-init.js']) {
      const response = await fetch(`${t.baseUrl}${path}`);
      expect(response.status).toBe(200);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("connect-src 'self'");
    }
  });

  (haveChromium ? describe : describe.skip)(haveChromium ? 'in Chromium' : `in Chromium (skipped: chromium missing at ${CHROMIUM})`, () => {
    let browser: TestBrowser;
    let watched: WatchedPage;

    beforeAll(async () => {
      browser = await TestBrowser.launch();
      watched = await browser.newPage(t.baseUrl);
    }, 30_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('renders every tag and loads the document under that policy, with no violation, error or request elsewhere', async () => {
      const { page } = watched;
      await page.goto('/swagger');
      await need(page.getByRole('heading', { name: /AppToken Server/ }).first(), 'Swagger UI shows no title');
      for (const tag of ['auth', 'apptoken', 'gateway', 'identity', 'role', 'audit']) {
        await need(page.locator(`#operations-tag-${tag}`), `Swagger UI shows no "${tag}" section`);
      }
      await watched.idle();
      watched.assertClean('on /swagger');
    }, 30_000);
  });
});
