import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import {
  apiClient,
  assertAccessible,
  type ConsoleBrowser,
  ensureConsoleBuilt,
  openBrowser,
  type RunningCallguard,
  rulesCsv,
  screenshotDir,
  skipWithoutChromium,
  startCallguard,
  WAIT,
  watchPage,
} from './console-support.js';

/**
 * The web console in a real browser (Debian's Chromium through playwright-core) against a real
 * `callguard serve --roles api,worker` and a real Redis. Each step leaves a screenshot in docs/console/.
 */
/**
 * Screenshots go to docs/console/ with CONSOLE_SCREENSHOTS=1 (npm run screenshots:console), otherwise
 * to a temporary folder: a plain test run leaves the committed images alone.
 */

/** The test's Redis is private, so a fixed tenant id keeps the screenshots the same from run to run. */
const TENANT = 'acme';
const IMPORT_ROWS = 1500;

describe.skipIf(skipWithoutChromium || skipWithoutLocalRedis)('web console', () => {
  let redis: TestRedis;
  let server: RunningCallguard;
  let browser: ConsoleBrowser;
  let context: BrowserContext;
  const shots = screenshotDir('cg-shots');
  let page: Page;
  let adminKey: string;
  let agentKey: string;
  let hasJobsApi = false;
  const foreignRequests: string[] = [];

  /** Every state worth a picture is checked with axe-core first. */
  const shot = async (p: Page, name: string, fullPage = false) => {
    await assertAccessible(p, name);
    await p.screenshot({ path: join(shots.dir, `${name}.png`), fullPage, animations: 'disabled' });
  };

  const signIn = async (p: Page, key: string) => {
    await p.goto(`${server.url}/console/`);
    await p.getByLabel('API key').fill(key);
    await p.getByRole('button', { name: 'Sign in' }).click();
    // The dashboard is the landing page; these tests work on the Blocklist.
    await p.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor(WAIT);
    await p.getByRole('link', { name: 'Blocklist', exact: true }).click();
    await p.getByRole('heading', { name: 'Blocklist', level: 1 }).waitFor(WAIT);
  };

  const rowOf = (p: Page, text: string): Locator => p.locator('table.rules tbody tr', { hasText: text });

  /** A wait that, when it runs out, says what the page and the server showed at that moment. */
  const explained = async (where: Locator, wait: () => Promise<unknown>) => {
    try {
      await wait();
    } catch (error) {
      const shown = await where.textContent().catch(() => '(not readable)');
      throw new Error(
        `${(error as Error).message}\n--- page:\n${shown}\n--- server:\n${server.output().slice(-4000)}`,
      );
    }
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    redis = await startRedis({ private: true });
    server = await startCallguard(redis.url);

    // The scene, through the public API: a tenant, two OUs, a group, a type, a few rules, an agent of one OU.
    const system = apiClient(server.url, server.systemKey);
    await system('POST', '/v1/tenants', { id: TENANT, name: 'Acme' }).catch((e: Error) => {
      throw new Error(`${e.message}\n${server.output()}`);
    });
    adminKey = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, { name: 'admin' })).key;
    const admin = apiClient(server.url, adminKey);
    await admin('PUT', '/v1/ous/east', { name: 'East' });
    await admin('PUT', '/v1/ous/west', { name: 'West' });
    await admin('PUT', '/v1/groups/Campaign%20A', {
      name: 'Campaign A',
      ou: 'east',
      description: 'spring campaign',
    });
    await admin('PUT', '/v1/types/Wrap%20up', {
      name: 'Wrap up',
      ou: 'east',
      operation: 'auto_wrap_up',
      businessResult: 'DNC',
    });
    await admin('POST', '/v1/rules', {
      called: '_1404526!',
      direction: 'outbound',
      ou: 'east',
      remarks: 'area block',
    });
    await admin('POST', '/v1/rules', {
      called: '15550002222',
      direction: 'outbound',
      ou: 'east',
      remarks: 'east rule',
    });
    await admin('POST', '/v1/rules', {
      called: '15550001111',
      direction: 'outbound',
      ou: 'west',
      remarks: 'west rule',
    });
    await admin('PATCH', '/v1/params', { dataIsolation: true });
    agentKey = (
      await admin<{ key: string }>('POST', '/v1/keys', { name: 'agent east', role: 'agent', ous: ['east'] })
    ).key;
    const openapi = await (await fetch(`${server.url}/openapi.json`)).json();
    hasJobsApi = Boolean(openapi.paths?.['/v1/imports'] && openapi.paths?.['/v1/jobs/{id}']);
    if (hasJobsApi) {
      // A registered file server for the scheduled tasks (creating a schedule does not connect to it).
      await admin('POST', '/v1/file-servers', {
        name: 'sftp-backup',
        host: '127.0.0.1',
        port: 2222,
        username: 'callguard',
        password: 'not-used-here',
        root: '/srv/callguard',
      });
    }

    browser = await openBrowser({ acceptDownloads: true });
    context = browser.context;
    const origin = new URL(server.url).origin;
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'))
        foreignRequests.push(u);
    });
    page = browser.page;
  });

  afterAll(async () => {
    await browser?.close();
    shots.remove();
    await server?.stop();
    await redis?.stop();
  });

  it('signs in with an API key kept in sessionStorage, never in the URL', async () => {
    await page.goto(`${server.url}/console/`);
    await page.getByRole('heading', { name: 'callguard console' }).waitFor(WAIT);
    await shot(page, 'sign-in');
    await page.getByLabel('API key').fill('cgk.nobody.not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('This API key is not valid').waitFor(WAIT);

    await signIn(page, adminKey);
    assert.ok(!page.url().includes(adminKey), 'the key is not in the address');
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('callguard.apiKey'),
      local: Object.keys(localStorage).length,
      cookies: document.cookie,
    }));
    assert.equal(stored.session, adminKey);
    assert.equal(stored.local, 0);
    assert.equal(stored.cookies, '');
  });

  it('works from the keyboard: a dialog opens on Enter with the first field focused and closes on Escape', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New blocklist rule' });
    await dialog.waitFor(WAIT);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'number');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached', ...WAIT });
    // Focus goes back to the button that opened the dialog.
    await page.waitForFunction(() => document.activeElement?.textContent === 'New', undefined, WAIT);
  });

  it('adds a rule in the New dialog, with the API validation message shown at the field', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New blocklist rule' });
    await dialog.waitFor(WAIT);
    await dialog.getByLabel('Number or pattern', { exact: true }).fill('1404X55');
    await dialog.getByRole('button', { name: 'Save' }).click();
    const numberError = dialog.locator('.field.invalid .error-text').first();
    await numberError.waitFor(WAIT);
    assert.match((await numberError.textContent()) ?? '', /\S/);
    await shot(page, 'rule-dialog-validation');

    await dialog.getByLabel('Number or pattern', { exact: true }).fill('+1 (312) 555-0142');
    await dialog.getByLabel('OU', { exact: true }).selectOption('east');
    await dialog.getByLabel('Group', { exact: true }).selectOption('Campaign A');
    await dialog.getByLabel('Type', { exact: true }).selectOption('Wrap up');
    await dialog.getByLabel('Valid for').check();
    await dialog.getByLabel('Validity amount').fill('30');
    await dialog.getByLabel('Unit', { exact: true }).selectOption('day');
    await dialog.getByLabel('Remarks').fill('customer asked not to be called');
    await shot(page, 'rule-dialog');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Rule \d+ created/ })
      .waitFor(WAIT);
    await dialog.waitFor({ state: 'detached', ...WAIT });
  });

  it('creates a group and a Pop Up type from the dialog', async () => {
    await page.getByRole('button', { name: 'New', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'New blocklist rule' });
    await dialog.getByRole('button', { name: 'New group…' }).click();
    await dialog.getByLabel('Group name').fill('VIP list');
    await dialog.getByLabel('Group OU').selectOption('east');
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await dialog.getByLabel('Group name').waitFor({ state: 'detached', ...WAIT });
    await dialog.getByRole('button', { name: 'New type…' }).click();
    await dialog.getByLabel('Type name').fill('Agent prompt');
    await dialog.getByLabel('Operation type').selectOption('pop_up');
    await dialog.getByLabel('Prompt content').fill('Do not call: customer on the VIP list');
    await dialog.getByLabel('Jump address').fill('https://crm.example/vip');
    await shot(page, 'type-form');
    await dialog.getByRole('button', { name: 'Create type' }).click();
    await dialog.getByLabel('Type name').waitFor({ state: 'detached', ...WAIT });
    assert.equal(await dialog.getByLabel('Group', { exact: true }).inputValue(), 'VIP list');
    assert.equal(await dialog.getByLabel('Type', { exact: true }).inputValue(), 'Agent prompt');
    await dialog.getByLabel('Number or pattern', { exact: true }).fill('13125550199');
    await dialog.getByLabel('OU', { exact: true }).selectOption('east');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Rule \d+ created/ })
      .waitFor(WAIT);
    // The modal is gone before the next step types into the page behind it.
    await dialog.waitFor({ state: 'detached', ...WAIT });
  });

  it('finds the rule by number, exactly and as the rules that would match it, and explains a check', async () => {
    const filters = page.getByRole('form', { name: 'Search rules' });
    await filters.getByLabel('Phone number').fill('13125550142');
    // The search's own request and answer, so that a failure below says whether the console sent the
    // search (a CI run once waited 60 s for an answer that never came) or the API did not answer it.
    const isSearch = (url: string) => url.includes('number=13125550142');
    const sent = page.waitForRequest((r) => isSearch(r.url()), WAIT);
    const searched = page.waitForResponse((r) => isSearch(r.url()), WAIT);
    await filters.getByRole('button', { name: 'Search' }).click();
    await sent;
    assert.equal((await searched).status(), 200);
    await rowOf(page, '13125550142').waitFor(WAIT);
    await page
      .locator('table.rules tbody tr')
      .nth(1)
      .waitFor({ state: 'detached', ...WAIT });
    assert.match((await rowOf(page, '13125550142').textContent()) ?? '', /Campaign A.*Wrap up.*East/);

    await filters.getByLabel('Phone number').fill('14045261234');
    await filters.getByLabel('Match').selectOption('matching');
    await filters.getByRole('button', { name: 'Search' }).click();
    await rowOf(page, '_1404526!').waitFor(WAIT);

    const check = page.getByRole('region', { name: 'Check a call' });
    await check.getByLabel('Called number').fill('1-404-526-1234');
    await check.getByRole('button', { name: 'Check' }).click();
    const decision = check.locator('output.decision');
    await decision.waitFor(WAIT);
    const text = (await decision.textContent()) ?? '';
    assert.match(text, /block/);
    assert.match(text, /Matched rule/);
    assert.match(text, /_1404526!/);
    await shot(page, 'blocklist', true);
  });

  it('edits a rule', async () => {
    await rowOf(page, '_1404526!').getByRole('button', { name: /^Edit/ }).click();
    const dialog = page.getByRole('dialog', { name: /^Edit rule \d+$/ });
    assert.equal(await dialog.getByLabel('Number or pattern', { exact: true }).inputValue(), '_1404526!');
    assert.equal(await dialog.getByLabel('OU', { exact: true }).inputValue(), 'east');
    await dialog.getByLabel('Remarks').fill('area block, reviewed');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /Rule \d+ updated/ })
      .waitFor(WAIT);
    await rowOf(page, 'area block, reviewed').waitFor(WAIT);
  });

  it('imports a file and follows the progress bar to 100%', async (t) => {
    if (!hasJobsApi) return t.skip('the jobs API (/v1/imports, /v1/jobs) is not in this build');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Import blocklist' });
    await dialog.locator('input[type=file]').setInputFiles({
      name: 'blocklist.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(rulesCsv(IMPORT_ROWS, '1777', 'Campaign A', 'Wrap up', 'east')),
    });
    await dialog.getByLabel('Override rule').selectOption('override');
    await shot(page, 'import-dialog');
    const [template] = await Promise.all([
      page.waitForEvent('download', WAIT),
      dialog.getByRole('button', { name: 'Download template' }).click(),
    ]);
    assert.match(
      readFileSync((await template.path())!, 'utf8'),
      /^id,called,calling,/m,
      'the template has the columns',
    );
    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    await explained(dialog, () => dialog.locator('[role=progressbar][aria-valuenow="100"]').waitFor(WAIT));
    await dialog.locator('[data-state=completed]').waitFor(WAIT);
    assert.equal(await dialog.locator('[data-count=imported]').textContent(), String(IMPORT_ROWS));
    assert.equal(await dialog.locator('[data-count=failed]').textContent(), '1');
    await shot(page, 'import-progress');
    const [errors] = await Promise.all([
      page.waitForEvent('download', WAIT),
      dialog.getByRole('button', { name: /Errors file/ }).click(),
    ]);
    const errorsCsv = readFileSync((await errors.path())!, 'utf8');
    assert.match(
      errorsCsv,
      new RegExp(`\\b${IMPORT_ROWS + 2}\\b.*called`),
      'the bad row is reported with its line',
    );
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  it('exports to an encrypted zip, checking the password rule as it is typed, and downloads it', async (t) => {
    if (!hasJobsApi) return t.skip('the jobs API (/v1/exports, /v1/jobs) is not in this build');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Export blocklist' });
    const password = dialog.getByLabel('Compression password');
    await password.fill('short');
    assert.equal(await dialog.locator('.rule-list li.ok').count(), 1, 'only "no other characters" holds');
    await password.fill('Secret_2026');
    assert.equal(await dialog.locator('.rule-list li.todo').count(), 0);
    assert.equal(await password.getAttribute('type'), 'password');
    await dialog.getByRole('button', { name: 'Show password' }).click();
    assert.equal(await dialog.getByLabel('Compression password').getAttribute('type'), 'text');
    await shot(page, 'export-dialog');
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await explained(dialog, () => dialog.locator('[data-state=completed]').waitFor(WAIT));
    assert.ok(
      Number(await dialog.locator('[data-count=exported]').textContent()) > IMPORT_ROWS,
      'every rule exported',
    );
    const [download] = await Promise.all([
      page.waitForEvent('download', WAIT),
      dialog.getByRole('button', { name: /Download zip/ }).click(),
    ]);
    const path = await download.path();
    assert.ok(path, 'the download was saved');
    const zip = readFileSync(path);
    assert.equal(zip.subarray(0, 2).toString('latin1'), 'PK', 'a zip file');
    await shot(page, 'export-done');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
  });

  it('lists the jobs in the task view', async (t) => {
    await page.getByRole('link', { name: 'Tasks', exact: true }).click();
    await page.getByRole('heading', { name: 'Tasks', level: 1 }).waitFor(WAIT);
    if (!hasJobsApi) {
      await shot(page, 'tasks');
      return t.skip('the jobs API (/v1/jobs) is not in this build');
    }
    await page.locator('table.jobs tbody tr[data-job-id]').nth(1).waitFor(WAIT);
    const text = (await page.locator('table.jobs tbody').textContent()) ?? '';
    assert.match(text, /import/);
    assert.match(text, /export/);
    assert.match(text, /completed/);
    await shot(page, 'tasks');
  });

  it('creates, pauses, starts and deletes a scheduled task, with the tenant limit shown', async (t) => {
    await page.getByRole('link', { name: 'Scheduled tasks' }).click();
    await page.getByRole('heading', { name: 'Scheduled tasks', level: 1 }).waitFor(WAIT);
    const limits = page.getByTestId('schedule-limits');
    assert.match((await limits.textContent()) ?? '', /Scheduled imports: 0 of 10/);
    await page.getByRole('button', { name: 'New scheduled export' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'New scheduled export' });
    await exportDialog.getByLabel('Task name').fill('Nightly export');
    await exportDialog.getByLabel('Compression password').fill('Night.2026');
    await shot(page, 'schedule-dialog');
    await exportDialog.getByRole('button', { name: 'Cancel' }).click();
    if (!hasJobsApi) {
      await shot(page, 'schedules');
      return t.skip('the schedules API (/v1/schedules) is not in this build');
    }

    await page.getByRole('button', { name: 'New scheduled import' }).click();
    const dialog = page.getByRole('dialog', { name: 'New scheduled import' });
    await dialog.getByLabel('Task name').fill('Daily DNC list');
    await dialog.getByLabel('Executed time').fill('30 2 * * *');
    await dialog.getByLabel('Override rule').selectOption('override');
    await dialog.getByLabel('OU', { exact: true }).selectOption('east');
    await dialog.getByLabel('Group', { exact: true }).selectOption('Campaign A');
    await dialog.getByLabel('Server', { exact: true }).selectOption({ label: 'sftp-backup (127.0.0.1)' });
    await dialog.getByLabel('File address').fill('dnc');
    await dialog.getByLabel('File name').fill('dnc-list.csv');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('status').filter({ hasText: 'Daily DNC list scheduled.' }).waitFor(WAIT);
    const row = page.locator('tr', { hasText: 'Daily DNC list' });
    assert.match(
      (await row.textContent()) ?? '',
      /30 2 \* \* \*.*East.*Campaign A.*sftp-backup: dnc\/dnc-list\.csv.*active/,
    );
    assert.match((await limits.textContent()) ?? '', /Scheduled imports: 1 of 10/);
    await shot(page, 'schedules');

    await row.getByRole('button', { name: /^Pause/ }).click();
    await row.getByText('paused').waitFor(WAIT);
    await row.getByRole('button', { name: /^Start/ }).click();
    await row.getByText('active').waitFor(WAIT);
    page.once('dialog', (d) => void d.accept());
    await row.getByRole('button', { name: /^Delete/ }).click();
    await row.waitFor({ state: 'detached', ...WAIT });
    assert.match((await limits.textContent()) ?? '', /Scheduled imports: 0 of 10/);
  });

  it('binds an outbound task to groups', async () => {
    await page.getByRole('link', { name: 'Task bindings' }).click();
    await page.getByLabel('Outbound task id').fill('campaign-7');
    await page.getByRole('button', { name: 'Show / edit' }).click();
    await page.getByRole('checkbox', { name: 'Campaign A' }).check();
    await page.getByRole('checkbox', { name: 'VIP list' }).check();
    await page.getByRole('button', { name: 'Save binding' }).click();
    await page.getByRole('status').filter({ hasText: 'Task campaign-7 is bound to' }).waitFor(WAIT);
    const row = page.locator('tr[data-task-id="campaign-7"]');
    assert.match((await row.textContent()) ?? '', /Campaign A, VIP list/);
    await shot(page, 'task-bindings');
    const admin = apiClient(server.url, adminKey);
    const binding = await admin<{ groups: string[] }>('GET', '/v1/tasks/campaign-7/groups');
    assert.deepEqual([...binding.groups].sort(), ['Campaign A', 'VIP list']);
  });

  it('shows who changed what on the Audit page, with the edited field before and after', async () => {
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('heading', { name: 'Audit', level: 1 }).waitFor(WAIT);
    await page.getByLabel('Kind').selectOption('rule');
    const edited = page.locator('table.audit tbody tr', { hasText: 'rule update' }).first();
    await explained(page.locator('table.audit'), () => edited.waitFor(WAIT));
    const text = (await edited.textContent()) ?? '';
    assert.match(text, /admin/, 'the key name');
    assert.match(text, /remarks: area block → area block, reviewed/);
    await page.getByLabel('Kind').selectOption('');
    await page.locator('table.audit tbody tr', { hasText: 'binding update' }).first().waitFor(WAIT);
    await shot(page, 'audit');
  });

  it("hides a foreign OU's rules from an agent when data isolation is on", async () => {
    const agentPage = await context.newPage();
    const agentErrors = watchPage(agentPage);
    try {
      await signIn(agentPage, agentKey);
      await agentPage.locator('table.rules tbody tr[data-rule-id]').first().waitFor(WAIT);
      const ous = await agentPage
        .getByRole('form', { name: 'Search rules' })
        .getByLabel('OU', { exact: true })
        .locator('option')
        .allTextContents();
      assert.deepEqual(ous, ['Any OU', 'East (east)']);
      const filters = agentPage.getByRole('form', { name: 'Search rules' });
      await filters.getByLabel('Phone number').fill('15550001111');
      await filters.getByRole('button', { name: 'Search' }).click();
      await agentPage.getByText('No rules match.').waitFor(WAIT);
      await filters.getByLabel('Phone number').fill('1555000');
      await filters.getByLabel('Match').selectOption('matching');
      await filters.getByLabel('Phone number').fill('15550002222');
      await filters.getByRole('button', { name: 'Search' }).click();
      await rowOf(agentPage, '15550002222').waitFor(WAIT);
      assert.equal(await rowOf(agentPage, '15550001111').count(), 0, 'the west rule is hidden');
      await filters.getByLabel('Match').selectOption('exact');
      await filters.getByRole('button', { name: 'Reset' }).click();
      await agentPage.locator('table.rules tbody tr[data-rule-id]').first().waitFor(WAIT);
      const all = (await agentPage.locator('table.rules tbody').textContent()) ?? '';
      assert.ok(!all.includes('15550001111') && !all.includes('West'), 'no west rule on the first page');
      await shot(agentPage, 'agent-data-isolation');
      assert.deepEqual(agentErrors, []);
    } finally {
      await agentPage.close();
    }
  });

  it('made no request outside callguard and raised no page or console error', () => {
    assert.deepEqual(foreignRequests, []);
    assert.deepEqual(browser.pageErrors, []);
  });
});
