import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { LastUsedTracker } from '../src/app-token/last-used.tracker.js';
import { ADMIN_PASSWORD, startApp, type TestApp } from './support/app.js';
import { CHROMIUM, checkA11y, gone, haveChromium, need, screenshot, TestBrowser, type WatchedPage } from './support/browser.js';

/**
 * The accessible names the console must keep (issue 8). Everything the spec clicks or reads is found by these,
 * with getByRole/getByLabel and exact names: rename here, in one place, when a page names a control otherwise.
 */
const UI = {
  signIn: {
    userName: 'User name',
    password: 'Password',
    submit: 'Sign in',
    invalid: 'Invalid user name or password',
    expired: /session has expired/i,
  },
  signOut: 'Sign out',
  /** Links in the navigation landmark; each page shows a heading with the same name. */
  nav: { name: 'Main', pages: ['Tokens', 'Identities', 'Roles', 'Endpoints', 'Audit'] as const },
  roles: { add: 'Add Role', dialog: 'Add Role', name: 'Name', description: 'Description', create: 'Create' },
  identities: {
    add: 'Add Identity',
    dialog: 'Add Identity',
    name: 'Name',
    /** A radio (Radio.Group, SegmentedControl) named so, or an option of the select labelled `kindField`. */
    service: 'Service (no password)',
    kindField: 'Kind',
    /** The role checkboxes, each labelled with the role's name, in a group with this name (else anywhere in the dialog). */
    roles: 'Roles',
    create: 'Create',
  },
  tokens: {
    add: 'Add New App Token',
    identity: 'Identity',
    roles: 'Roles',
    expiration: 'Expiration',
    ninetyDays: '90 days',
    description: 'Description',
    grant: 'Grant App Token',
    token: 'Token',
    copy: 'Copy',
    notShownAgain: /not be shown again/i,
    revoke: 'Revoke',
    confirmRevoke: 'Revoke',
    rotate: 'Rotate',
    delete: 'Delete',
    /** Placeholder of the empty Identity field an Administrator's grant dialog opens with. */
    chooseIdentity: 'Choose an identity',
    /** What the dialog says when Grant is pressed with no role checked. */
    noRole: /Choose at least one role/,
    /** The preset the server's default lifetime (APP_TOKEN_DEFAULT_LIFETIME_DAYS, 365 unless set) matches. */
    defaultExpiration: '1 year',
  },
  skipLink: 'Skip to content',
  /** The focusable, named boxes each page's table scrolls in (axe: scrollable-region-focusable). */
  tableRegions: { Tokens: 'App tokens table', Identities: 'Identities table', Roles: 'Roles table', Endpoints: 'Endpoint rules table', Audit: 'Audit events table' },
  /** Row buttons described by their row's name cell, per page. */
  rowActions: { Identities: ['Edit roles', 'Disable', 'Grant token', 'Delete'], Roles: ['Edit', 'Delete'], Endpoints: ['Edit', 'Delete'] },
} as const;

const ROLE = 'Payroll';
const SERVICE = 'payroll-bot';
const READER = 'reader-jo';
const READER_PASSWORD = 'reader-jo-password-1';
const TOKEN_DESCRIPTION = 'Nightly payroll export (console e2e)';
const DAY_MS = 86_400_000;
/** A name with no space to break at: it must wrap in its cells instead of widening the tables (200 characters). */
const LONG_NAME = `svc-${'x'.repeat(196)}`;
const RULE_URL = '/payroll/*';

if (!haveChromium) {
  // eslint-disable-next-line no-console
  console.warn(`console.e2e-spec: SKIPPED, ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
}

const title = haveChromium ? 'the admin console in Chromium, by accessible names' : `the admin console in Chromium (skipped: chromium missing at ${CHROMIUM})`;

(haveChromium ? describe : describe.skip)(title, () => {
  let t: TestApp;
  let browser: TestBrowser;
  let admin: WatchedPage;
  let adminSession: string;
  let token = '';
  let tokenId = 0;
  /** Steps that passed: a step that needs a failed one says so instead of failing on its leftovers. */
  const passed = new Set<string>();
  /** axe-core findings, reported together by the last test so a contrast issue does not hide what works. */
  const accessibility: string[] = [];
  const checked: string[] = [];

  async function axe(page: Page, name: string) {
    checked.push(name);
    try {
      await checkA11y(page, name);
    } catch (error) {
      accessibility.push(error instanceof Error ? error.message : String(error));
    }
  }

  /** One step of the scenario: runs when the steps it needs passed, and fails on anything the page did wrong meanwhile. */
  function step(name: string, needs: string[], watched: () => WatchedPage, body: () => Promise<void>, timeout?: number) {
    it(name, async () => {
      const missing = needs.filter((n) => !passed.has(n));
      if (missing.length > 0) throw new Error(`not run: it needs the earlier step(s) "${missing.join('", "')}", which did not pass`);
      const page = watched();
      page.takeProblems();
      try {
        await body();
      } catch (error) {
        const problems = page.takeProblems();
        if (problems.length > 0 && error instanceof Error) error.message += `\nMeanwhile the page went wrong:\n  - ${problems.join('\n  - ')}`;
        throw error;
      }
      page.assertClean(`during "${name}"`);
      passed.add(name);
    }, timeout);
  }

  beforeAll(async () => {
    [t, browser] = await Promise.all([startApp(), TestBrowser.launch()]);
    adminSession = await t.http.signin('admin', ADMIN_PASSWORD);
    const reader = await t.http.post('/api/v1/identity', { name: READER, password: READER_PASSWORD, roles: ['Reader'] }, { session: adminSession });
    expect(reader.status).toBe(201);
    admin = await browser.newPage(t.baseUrl);
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const dialog = (page: Page, name: string) => page.getByRole('dialog', { name, exact: true });
  const navLink = (page: Page, name: string) => page.getByRole('navigation', { name: UI.nav.name, exact: true }).getByRole('link', { name, exact: true });

  async function signIn(page: Page, user: string, password: string) {
    await need(page.getByLabel(UI.signIn.userName, { exact: true }), `no sign-in field labelled "${UI.signIn.userName}"`);
    await page.getByLabel(UI.signIn.userName, { exact: true }).fill(user);
    await page.getByLabel(UI.signIn.password, { exact: true }).fill(password);
    await page.getByRole('button', { name: UI.signIn.submit, exact: true }).click();
  }

  async function signedInAt(page: Page, heading: string) {
    await need(page.getByRole('button', { name: UI.signOut, exact: true }), `signed in, the page shows no "${UI.signOut}" button`);
    await need(page.getByRole('heading', { name: heading, exact: true }), `the page has no heading "${heading}"`);
  }

  /** Opens a page through its navigation link and waits for its heading and its requests. */
  async function visit(watched: WatchedPage, name: string) {
    const { page } = watched;
    await (await need(navLink(page, name), `the navigation has no link "${name}"`)).click();
    await need(page.getByRole('heading', { name, exact: true }), `after clicking "${name}", the page shows no heading "${name}"`);
    expect(new URL(page.url()).pathname).toBe(`/${name.toLowerCase()}`);
    await watched.idle();
  }

  /** Picks `option` in the field labelled `label`: a native select, a Mantine Select or an autocomplete combobox. */
  async function choose(page: Page, scope: Locator, label: string, option: string) {
    const combobox = scope.getByRole('combobox', { name: label, exact: true });
    const field = await need((await combobox.count()) > 0 ? combobox : scope.getByLabel(label, { exact: true }), `the dialog has no field labelled "${label}"`);
    const tag = await field.evaluate((el) => (el as unknown as { tagName: string }).tagName);
    if (tag === 'SELECT') {
      await field.selectOption({ label: option });
      return;
    }
    if (await field.isEditable()) await field.fill(option);
    else await field.click();
    await (await need(page.getByRole('option', { name: option, exact: true }), `the field "${label}" offers no option "${option}"`)).click();
  }

  /** Waits until `locator` holds the keyboard focus. */
  async function focused(locator: Locator, message: string) {
    const deadline = Date.now() + 3_000;
    while (!(await locator.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement).catch(() => false))) {
      if (Date.now() > deadline) {
        const where = await locator.page().evaluate('(() => { const a = document.activeElement; return a ? a.tagName + (a.id ? "#" + a.id : "") + " " + (a.getAttribute("aria-label") || a.textContent || "").trim().slice(0, 60) : "nothing"; })()');
        throw new Error(`${message} (focus is on ${where})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The text of the elements an element's aria-describedby points at (its accessible description). */
  const description = (locator: Locator) =>
    locator.evaluate((el) =>
      (el.getAttribute('aria-describedby') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id: string) => el.ownerDocument.getElementById(id)?.textContent ?? '')
        .join(' '),
    );

  /** Checks exactly the checkboxes named in `names` among those of the group (Checkbox.Group label) `group`. */
  async function checkOnly(scope: Locator, group: string, names: string[]) {
    const labelled = scope.getByRole('group', { name: group, exact: true });
    const box = (await labelled.count()) > 0 ? labelled : scope;
    for (const name of names) await need(box.getByRole('checkbox', { name, exact: true }), `"${group}" has no checkbox labelled "${name}"`);
    for (const checkbox of await box.getByRole('checkbox').all()) if (await checkbox.isChecked()) await checkbox.uncheck();
    for (const name of names) await box.getByRole('checkbox', { name, exact: true }).check();
  }

  step('shows the API\'s message for a wrong password, then signs in as admin', [], () => admin, async () => {
    await admin.page.goto('/');
    await signIn(admin.page, 'admin', 'not-the-admin-password');
    await need(admin.page.getByRole('alert').filter({ hasText: UI.signIn.invalid }), `a wrong password shows no alert "${UI.signIn.invalid}"`);
    await screenshot(admin.page, 'sign-in-failed');
    await axe(admin.page, 'the sign-in page');
    await signIn(admin.page, 'admin', ADMIN_PASSWORD);
    await signedInAt(admin.page, 'Tokens');
    expect(new URL(admin.page.url()).pathname).toBe('/tokens');
    await admin.idle();
  });

  step('creates a custom role on the Roles page', ['shows the API\'s message for a wrong password, then signs in as admin'], () => admin, async () => {
    const { page } = admin;
    await visit(admin, 'Roles');
    await (await need(page.getByRole('button', { name: UI.roles.add, exact: true }), `the Roles page has no button "${UI.roles.add}"`)).click();
    const form = await need(dialog(page, UI.roles.dialog), `"${UI.roles.add}" opened no dialog named "${UI.roles.dialog}"`);
    await (await need(form.getByLabel(UI.roles.name, { exact: true }), `the "${UI.roles.dialog}" dialog has no field "${UI.roles.name}"`)).fill(ROLE);
    await (await need(form.getByLabel(UI.roles.description, { exact: true }), `the "${UI.roles.dialog}" dialog has no field "${UI.roles.description}"`)).fill('Runs the payroll export');
    await form.getByRole('button', { name: UI.roles.create, exact: true }).click();
    await gone(form, `the "${UI.roles.dialog}" dialog stayed open after "${UI.roles.create}"`);
    await need(page.getByRole('cell', { name: ROLE, exact: true }), `the Roles table shows no cell "${ROLE}" after creating it`);
    const roles = await t.http.get('/api/v1/role', { session: adminSession });
    expect(roles.body.map((r: { name: string }) => r.name)).toContain(ROLE);
  });

  step('creates a service identity holding the custom role on the Identities page', ['creates a custom role on the Roles page'], () => admin, async () => {
    const { page } = admin;
    await visit(admin, 'Identities');
    await (await need(page.getByRole('button', { name: UI.identities.add, exact: true }), `the Identities page has no button "${UI.identities.add}"`)).click();
    const form = await need(dialog(page, UI.identities.dialog), `"${UI.identities.add}" opened no dialog named "${UI.identities.dialog}"`);
    await (await need(form.getByLabel(UI.identities.name, { exact: true }), `the "${UI.identities.dialog}" dialog has no field "${UI.identities.name}"`)).fill(SERVICE);
    const serviceRadio = form.getByRole('radio', { name: UI.identities.service, exact: true });
    if ((await serviceRadio.count()) > 0) await serviceRadio.check();
    else await choose(page, form, UI.identities.kindField, UI.identities.service);
    await checkOnly(form, UI.identities.roles, [ROLE]);
    await form.getByRole('button', { name: UI.identities.create, exact: true }).click();
    await gone(form, `the "${UI.identities.dialog}" dialog stayed open after "${UI.identities.create}"`);
    await need(page.getByRole('cell', { name: SERVICE, exact: true }), `the Identities table shows no cell "${SERVICE}" after creating it`);
    const identities = await t.http.get('/api/v1/identity', { session: adminSession });
    expect(identities.body.find((i: { name: string }) => i.name === SERVICE)).toMatchObject({ source: 'service', roles: [ROLE] });
  });

  step('grants it a 90-day token with only the custom role in the "Add New App Token" dialog, and shows the token once', ['creates a service identity holding the custom role on the Identities page'], () => admin, async () => {
    const { page } = admin;
    await visit(admin, 'Tokens');
    await (await need(page.getByRole('button', { name: UI.tokens.add, exact: true }), `the Tokens page has no button "${UI.tokens.add}"`)).click();
    const form = await need(page.getByRole('dialog'), `"${UI.tokens.add}" opened no dialog`);
    // By keyboard: the dialog opens on an empty Identity, so what is typed is the name searched for.
    const identity = form.getByRole('combobox', { name: UI.tokens.identity, exact: true });
    await focused(identity, `the grant dialog does not open with focus on its empty "${UI.tokens.identity}" field`);
    expect(await identity.inputValue()).toBe('');
    expect(await identity.getAttribute('placeholder')).toBe(UI.tokens.chooseIdentity);
    expect(await form.getByRole('combobox', { name: UI.tokens.expiration, exact: true }).or(form.getByLabel(UI.tokens.expiration, { exact: true })).first().evaluate((el) => (el as unknown as { selectedOptions?: Array<{ label: string }>; value: string }).selectedOptions?.[0]?.label ?? (el as unknown as { value: string }).value)).toBe(UI.tokens.defaultExpiration);
    await page.keyboard.type(SERVICE);
    await (await need(page.getByRole('option', { name: SERVICE, exact: true }), `typing "${SERVICE}" into the focused Identity field offers no option "${SERVICE}"`)).click();
    expect(await identity.inputValue()).toBe(SERVICE);
    // The identity holds one role: it is checked for you. Unchecked, Grant says what is missing.
    const only = await need(form.getByRole('checkbox', { name: ROLE, exact: true }), `the grant dialog offers no role "${ROLE}" for ${SERVICE}`);
    await admin.idle();
    expect(await only.isChecked()).toBe(true);
    await only.uncheck();
    await form.getByRole('button', { name: UI.tokens.grant, exact: true }).click();
    await need(form.getByRole('alert').filter({ hasText: UI.tokens.noRole }), `granting with no role checked shows no alert matching ${UI.tokens.noRole}`);
    await checkOnly(form, UI.tokens.roles, [ROLE]);
    await gone(form.getByRole('alert').filter({ hasText: UI.tokens.noRole }), 'the "no role" alert stayed after a role was checked');
    await choose(page, form, UI.tokens.expiration, UI.tokens.ninetyDays);
    await (await need(form.getByLabel(UI.tokens.description, { exact: true }), `the grant dialog has no field "${UI.tokens.description}"`)).fill(TOKEN_DESCRIPTION);
    await admin.idle();
    await screenshot(page, 'tokens-grant-dialog');
    await axe(page, 'the grant dialog');
    await (await need(form.getByRole('button', { name: UI.tokens.grant, exact: true }), `the grant dialog has no button "${UI.tokens.grant}"`)).click();

    const field = await need(page.getByRole('textbox', { name: UI.tokens.token, exact: true }), `after "${UI.tokens.grant}", no read-only field labelled "${UI.tokens.token}" shows the token`, 10_000);
    expect(await field.isEditable()).toBe(false);
    token = await field.inputValue();
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    await need(page.getByRole('dialog').getByRole('button', { name: UI.tokens.copy, exact: true }), `the new token has no "${UI.tokens.copy}" button`);
    await need(page.getByRole('dialog').getByText(UI.tokens.notShownAgain), 'the new token comes without the warning that it will not be shown again');
    await screenshot(page, 'tokens-new-token');
    await page.keyboard.press('Escape');
    await gone(page.getByRole('dialog'), 'Escape did not close the dialog showing the new token');
    await need(page.getByRole('row').filter({ hasText: TOKEN_DESCRIPTION }), `the Tokens table shows no row for "${TOKEN_DESCRIPTION}" after the grant`);
  }, 30_000);

  step('the token works through the API with exactly the custom role and expires in 90 days', ['grants it a 90-day token with only the custom role in the "Add New App Token" dialog, and shows the token once'], () => admin, async () => {
    const me = await t.http.get('/api/v1/identity/my', { token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: SERVICE, roles: [ROLE] });
    const list = await t.http.get(`/api/v1/apptoken?search=${encodeURIComponent(TOKEN_DESCRIPTION)}`, { session: adminSession });
    const mine = list.body.filter((x: { description: string }) => x.description === TOKEN_DESCRIPTION);
    expect(mine).toHaveLength(1);
    tokenId = mine[0].id;
    const record = await t.http.get(`/api/v1/apptoken/${tokenId}`, { session: adminSession });
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({ identity: { name: SERVICE }, roles: [ROLE], revoked: false, description: TOKEN_DESCRIPTION });
    const expiresIn = Date.parse(record.body.expiration) - Date.now();
    expect(Math.abs(expiresIn - 90 * DAY_MS)).toBeLessThanOrEqual(DAY_MS);
  });

  step('revokes it from its row in the table, and the API refuses it', ['the token works through the API with exactly the custom role and expires in 90 days'], () => admin, async () => {
    const { page } = admin;
    const row = await need(page.getByRole('row').filter({ hasText: TOKEN_DESCRIPTION }), `the Tokens table has no row for "${TOKEN_DESCRIPTION}"`);
    await (await need(row.getByRole('button', { name: UI.tokens.revoke, exact: true }), `the token's row has no "${UI.tokens.revoke}" button`)).click();
    const confirm = await need(page.getByRole('dialog'), `"${UI.tokens.revoke}" asked for no confirmation in a dialog`);
    await (await need(confirm.getByRole('button', { name: UI.tokens.confirmRevoke, exact: true }), `the confirmation has no "${UI.tokens.confirmRevoke}" button`)).click();
    await gone(confirm, 'the confirmation dialog stayed open after confirming');
    await admin.idle();
    const refused = await t.http.get('/api/v1/identity/my', { token });
    expect(refused.status).toBe(401);
    const record = await t.http.get(`/api/v1/apptoken/${tokenId}`, { session: adminSession });
    expect(record.body.revoked).toBe(true);
  });

  step('shows every page, each with a screenshot and no serious axe-core violation', ['shows the API\'s message for a wrong password, then signs in as admin'], () => admin, async () => {
    const { page } = admin;
    // Rows in every table, so axe-core judges real rows and buttons (an empty Tokens table hid the Revoke
    // button's contrast): a service identity with a 200-character name, active tokens (some used) for it and
    // for the admin, an endpoint rule, and the audit events all this writes.
    const created = await t.http.post('/api/v1/identity', { name: LONG_NAME, source: 'service', roles: ['Reader'] }, { session: adminSession });
    expect(created.status).toBe(201);
    const grants = [
      { identity: { id: created.body.id }, roles: ['Reader'], lifespanDays: 30, description: `Report reader for ${'a very long description that has to wrap '.repeat(3)}` },
      { identity: { name: 'admin' }, roles: ['Administrator'], lifespanDays: 365, description: 'Deployment pipeline' },
      { identity: { name: 'admin' }, roles: ['Administrator'], expiration: 'never', description: 'Backup job' },
    ];
    for (const body of grants) {
      const granted = await t.http.post('/api/v1/apptoken/grant', body, { session: adminSession });
      expect(granted.status).toBe(201);
      expect((await t.http.get('/api/v1/identity/my', { token: granted.body.token })).status).toBe(200);
    }
    // Their uses are written in batches: now, so the Last used column has dates.
    expect(await t.app.get(LastUsedTracker).flush()).toBeGreaterThanOrEqual(1);
    const rule = await t.http.post('/api/v1/endpoint', { url: RULE_URL, method: ['GET', 'POST'], role: ['Reader'] }, { session: adminSession });
    expect(rule.status).toBe(201);

    // From a clean state, whatever an earlier step left open.
    await page.goto('/tokens');
    await signedInAt(page, 'Tokens');
    await admin.idle();
    // The keyboard's first stop is the skip link, and it leads into the page.
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: UI.skipLink, exact: true });
    await focused(skip, `the first Tab stop after signing in is not a "${UI.skipLink}" link`);
    await page.keyboard.press('Enter');
    await focused(page.getByRole('main'), `"${UI.skipLink}" does not move focus to the main content`);
    const failures: string[] = [];
    for (const name of UI.nav.pages) {
      try {
        const from = new URL(page.url()).pathname;
        await visit(admin, name);
        // A page change is announced: focus moves to the new page's heading.
        if (from !== `/${name.toLowerCase()}`) await focused(page.getByRole('heading', { name, exact: true }), `after opening ${name}, focus is not on its heading`);
        // Its table scrolls in a focusable, named box, and no text widens it past the window.
        const region = await need(page.getByRole('region', { name: UI.tableRegions[name], exact: true }), `the ${name} page has no region "${UI.tableRegions[name]}" around its table`);
        expect(await region.getAttribute('tabindex')).toBe('0');
        expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
        const widths = await region.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        if (name !== 'Tokens') expect(widths.scroll).toBeLessThanOrEqual(widths.client + 1);
        if (name === 'Tokens') {
          // Every row's actions are on screen, inside the table's box, at 1280 px.
          const box = (await region.boundingBox())!;
          for (const action of [UI.tokens.revoke, UI.tokens.rotate, UI.tokens.delete]) {
            const buttons = await page.getByRole('row').getByRole('button', { name: action, exact: true }).all();
            expect(buttons.length).toBeGreaterThanOrEqual(3);
            for (const button of buttons) {
              const at = (await button.boundingBox())!;
              expect(at.x + at.width).toBeLessThanOrEqual(Math.min(1280, box.x + box.width) + 1);
              expect(at.x).toBeGreaterThanOrEqual(box.x);
            }
          }
        }
        if (name === 'Audit') await need(page.getByRole('cell').filter({ hasText: LONG_NAME }).first(), 'the Audit table shows no event naming the long identity');
        if (name in UI.rowActions) {
          // Row buttons keep their bare names and are described by the row they act on.
          const subject = name === 'Identities' ? LONG_NAME : name === 'Roles' ? ROLE : RULE_URL;
          const row = await need(page.getByRole('row').filter({ has: page.getByRole('cell', { name: subject, exact: true }) }), `the ${name} table has no row for "${subject}"`);
          for (const action of UI.rowActions[name as keyof typeof UI.rowActions]) {
            const button = await need(row.getByRole(action === 'Grant token' ? 'link' : 'button', { name: action, exact: true }).or(row.getByRole('button', { name: action, exact: true })).first(), `the ${name} row of "${subject}" has no "${action}" button`);
            expect(await description(button)).toBe(subject);
          }
        }
        await screenshot(page, `page-${name.toLowerCase()}`);
        await axe(page, `the ${name} page`);
        admin.assertClean(`on the ${name} page`);
      } catch (error) {
        failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        await page.goto('/tokens').catch(() => undefined);
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
  }, 60_000);

  step('signs out, then a Reader finds Tokens but no Identities or Audit link', ['shows the API\'s message for a wrong password, then signs in as admin'], () => admin, async () => {
    const { page } = admin;
    await page.goto('/tokens');
    await (await need(page.getByRole('button', { name: UI.signOut, exact: true }), `no "${UI.signOut}" button`)).click();
    await need(page.getByRole('button', { name: UI.signIn.submit, exact: true }), `"${UI.signOut}" did not lead back to the sign-in form`);
    await signIn(page, READER, READER_PASSWORD);
    await signedInAt(page, 'Tokens');
    await need(navLink(page, 'Tokens'), 'a Reader sees no "Tokens" link');
    await admin.idle();
    expect(await navLink(page, 'Identities').count()).toBe(0);
    expect(await navLink(page, 'Audit').count()).toBe(0);
    await screenshot(page, 'reader-tokens');
    await axe(page, 'the Tokens page of a Reader');
    // An Administrators' page typed in by hand is a message, not a broken page.
    await page.goto('/audit');
    await need(page.getByRole('alert'), 'a Reader at /audit sees no message saying the page is not for them');
    await admin.idle();
  });

  it('after the session ends, the next action shows Sign in with a message, and signing in returns to that page', async () => {
    const watched = await browser.newPage(t.baseUrl);
    try {
      const { page } = watched;
      await page.goto('/tokens');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await signedInAt(page, 'Tokens');
      await watched.idle();
      const cookie = (await watched.context.cookies()).find((c) => c.name === 'apptoken_session');
      expect(cookie).toBeDefined();
      // The session ends elsewhere (as when it times out): this page still believes it is signed in.
      expect((await t.http.post('/api/v1/signout', undefined, { session: cookie!.value })).status).toBeLessThan(300);
      await navLink(page, 'Roles').click();
      await need(page.getByRole('button', { name: UI.signIn.submit, exact: true }), 'after the session ended, opening the Roles page (which loads the roles) showed no sign-in form');
      await need(page.getByText(UI.signIn.expired), `the sign-in form after the session ended shows no message matching ${UI.signIn.expired}`);
      expect(new URL(page.url()).pathname).toBe('/roles');
      await signIn(page, 'admin', ADMIN_PASSWORD);
      await signedInAt(page, 'Roles');
      expect(new URL(page.url()).pathname).toBe('/roles');
      await watched.idle();
      watched.assertClean('on the session-expiry path');
    } finally {
      await watched.close();
    }
  });

  it('shows Tokens readable on a 390-px-wide window in the dark colour scheme', async () => {
    const watched = await browser.newPage(t.baseUrl, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
    try {
      const { page } = watched;
      const session = await t.http.signin('admin', ADMIN_PASSWORD);
      await watched.context.addCookies([{ name: 'apptoken_session', value: session, url: t.baseUrl }]);
      await page.goto('/tokens');
      await signedInAt(page, 'Tokens');
      await watched.idle();
      await screenshot(page, 'tokens-390-dark');
      await axe(page, 'the Tokens page, 390 px wide, dark');
      const overflow = await page.evaluate('document.documentElement.scrollWidth');
      expect(overflow).toBeLessThanOrEqual(390);
      watched.assertClean('on the 390-px dark Tokens page');
    } finally {
      await watched.close();
    }
  });

  it('fails a page on a script error, a console error, a CSP violation and a request leaving the server (the checks above can fail)', async () => {
    const watched = await browser.newPage(t.baseUrl);
    try {
      const { page } = watched;
      await page.goto('/');
      await need(page.getByRole('button', { name: UI.signIn.submit, exact: true }), 'no sign-in form');
      await page.evaluate("setTimeout(() => { throw new Error('thrown by the harness check'); }, 0)");
      await page.evaluate("console.error('logged by the harness check')");
      await page.evaluate("const s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.append(s)");
      await page.goto('http://elsewhere.invalid/').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const problems = watched.takeProblems().join('\n');
      expect(problems).toMatch(/page script error: .*thrown by the harness check/);
      expect(problems).toMatch(/console error: logged by the harness check/);
      expect(problems).toMatch(/Content-Security-Policy violation: style-src-elem blocked inline/);
      expect(problems).toMatch(/request leaving the server under test: GET http:\/\/elsewhere\.invalid\//);
      expect(() => watched.assertClean()).not.toThrow();
    } finally {
      await watched.close();
    }
  });

  it('has no serious or critical axe-core violation on any page checked above', () => {
    expect(checked.length).toBeGreaterThan(0);
    if (accessibility.length > 0) throw new Error(`checked ${checked.length}: ${checked.join(', ')}\n\n${accessibility.join('\n\n')}`);
  });
});
