import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it). Never a downloaded Playwright browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Screenshots land here; the folder is git-ignored. */
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Chromium reports CSP violations as a `securitypolicyviolation` event; this records each one on window (kept
 * for a look in devtools) and hands it to the test at once through a binding, since a navigation empties window.
 * Init scripts come from devtools, so the page's own CSP does not block them.
 */
const CSP_RECORDER = `(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    const text = event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' at ' + event.sourceFile + ':' + event.lineNumber;
    window.__cspViolations.push(text);
    if (typeof window.__reportCspViolation === 'function') void window.__reportCspViolation(text);
  });
})();`;

/** "Failed to load resource" for a 4xx is the browser reporting an API answer the page expects and shows. */
const EXPECTED_RESOURCE_ERROR = /^Failed to load resource: the server responded with a status of 4\d\d\b/;

/** A page of the server under test whose every script error, console error, CSP violation and outside request is a failure. */
export class WatchedPage {
  private problems: string[] = [];
  private inFlight = 0;
  private lastActivity = Date.now();

  constructor(
    readonly page: Page,
    readonly context: BrowserContext,
    readonly origin: string,
  ) {}

  /** Records a failure; the next `assertClean()` (every step of a spec ends with one) throws it. */
  fail(problem: string): void {
    this.problems.push(problem);
  }

  /** Throws, listing them, when anything went wrong in the page since the last call. */
  assertClean(when = ''): void {
    const problems = this.takeProblems();
    if (problems.length > 0) throw new Error(`the page went wrong${when ? ` ${when}` : ''}:\n  - ${problems.join('\n  - ')}`);
  }

  /** The failures recorded since the last call, forgotten afterwards. */
  takeProblems(): string[] {
    const problems = this.problems;
    this.problems = [];
    return problems;
  }

  /** Resolves once no request of the page has been in flight for `quietMs` (client-side navigation has no load event to wait for). */
  async idle(quietMs = 250, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight > 0 || Date.now() - this.lastActivity < quietMs) {
      if (Date.now() > deadline) throw new Error(`the page still had ${this.inFlight} request(s) in flight after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    await this.context.close();
  }

  /** @internal */
  async watch(): Promise<void> {
    const { page, context, origin } = this;
    // Every request goes through here: the server under test answers it, anything else is aborted and a failure.
    await context.route('**/*', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      this.fail(`request leaving the server under test: ${route.request().method()} ${url}`);
      return route.abort('blockedbyclient');
    });
    page.on('websocket', (socket) => {
      if (new URL(socket.url()).host !== new URL(origin).host) this.fail(`WebSocket leaving the server under test: ${socket.url()}`);
    });
    page.on('pageerror', (error) => this.fail(`page script error: ${error.stack ?? error.message}`));
    page.on('crash', () => this.fail('the page crashed'));
    page.on('dialog', (dialog) => {
      this.fail(`unexpected native ${dialog.type()} dialog: ${dialog.message()}`);
      void dialog.dismiss().catch(() => undefined);
    });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (EXPECTED_RESOURCE_ERROR.test(text)) return;
      if (/Content Security Policy/i.test(text)) this.fail(`Content-Security-Policy violation (console): ${text}`);
      else this.fail(`console error: ${text} (${message.location().url}:${message.location().lineNumber})`);
    });
    page.on('response', (response) => {
      if (response.status() >= 500) this.fail(`server error: ${response.status()} for ${response.request().method()} ${response.url()}`);
    });
    const busy = () => {
      this.inFlight++;
      this.lastActivity = Date.now();
    };
    const done = () => {
      this.inFlight = Math.max(0, this.inFlight - 1);
      this.lastActivity = Date.now();
    };
    page.on('request', busy);
    page.on('requestfinished', done);
    page.on('requestfailed', done);
    await page.exposeBinding('__reportCspViolation', (_source, text: string) => this.fail(`Content-Security-Policy violation: ${text}`));
    await page.addInitScript({ content: CSP_RECORDER });
  }
}

/** One Chromium for a spec file; each `newPage` is a fresh context (cookies, storage) watched for failures. */
export class TestBrowser {
  private constructor(private readonly browser: Browser) {}

  /** Playwright gives each launch a new, empty user-data dir of its own and removes it on close. */
  static async launch(): Promise<TestBrowser> {
    if (!haveChromium) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
    return new TestBrowser(await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true }));
  }

  async newPage(baseUrl: string, options: BrowserContextOptions = {}): Promise<WatchedPage> {
    const context = await this.browser.newContext({
      viewport: { width: 1280, height: 800 },
      serviceWorkers: 'block',
      baseURL: baseUrl,
      ...options,
    });
    context.setDefaultTimeout(5_000);
    context.setDefaultNavigationTimeout(10_000);
    const watched = new WatchedPage(await context.newPage(), context, new URL(baseUrl).origin);
    await watched.watch();
    return watched;
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}

/** Saves a full-page PNG to test/artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  return path;
}

/** Runs axe-core on the page as it is; throws listing every serious or critical violation. */
export async function checkA11y(page: Page, name: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (serious.length === 0) return;
  const lines = serious.map((v) => {
    const nodes = v.nodes.slice(0, 5).map((n) => `      ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join('; ') ?? ''}`);
    const more = v.nodes.length > 5 ? [`      … and ${v.nodes.length - 5} more`] : [];
    return [`  - ${v.impact} ${v.id}: ${v.help} (${v.helpUrl})`, ...nodes, ...more].join('\n');
  });
  throw new Error(`axe-core found ${serious.length} serious or critical accessibility violation(s) on ${name}:\n${lines.join('\n')}`);
}

/** Waits for the locator to be visible; on timeout throws `message`, which names what the page lacks. */
export async function need(locator: Locator, message: string, timeout = 5_000): Promise<Locator> {
  try {
    await locator.waitFor({ state: 'visible', timeout });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`${message} (${detail})`, { cause: error });
  }
  return locator;
}

/** Waits for the locator to disappear (a dialog closing); on timeout throws `message`. */
export async function gone(locator: Locator, message: string, timeout = 5_000): Promise<void> {
  try {
    await locator.waitFor({ state: 'hidden', timeout });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`${message} (${detail})`, { cause: error });
  }
}
