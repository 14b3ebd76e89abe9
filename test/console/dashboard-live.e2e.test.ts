import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { INPUT_VARIABLES } from '../../src/pbx/asterisk/ari-call-reader.js';
import { SECRET } from '../notify/notify-stack.js';
import { WebhookReceiver } from '../notify/webhook-receiver.js';
import { AriDouble } from '../pbx/asterisk/ari-double.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import {
  apiClient,
  assertAccessible,
  type ConsoleBrowser,
  ensureConsoleBuilt,
  openBrowser,
  type RunningCallguard,
  screenshotDir,
  skipWithoutChromium,
  startCallguard,
  WAIT,
} from './console-support.js';

const TENANT = 'initech';
const POPUP_NUMBER = '18005550199';
const WRAP_NUMBER = '15550001111';
const ALLOWED_NUMBER = '12125550100';

/**
 * The dashboard and the live decisions page in Debian's Chromium against `callguard serve --roles
 * api,worker,ari` on the ARI double: calls placed on the double are counted on the dashboard (the
 * figures beside the charts match the calls), and appear on the live page as they happen.
 */
describe.skipIf(skipWithoutChromium || skipWithoutLocalRedis)('console dashboard and live decisions', () => {
  let redis: TestRedis;
  let double: AriDouble;
  let server: RunningCallguard;
  let browser: ConsoleBrowser;
  const shots = screenshotDir('cg-dashboard-shots');
  let page: Page;
  const receiver = new WebhookReceiver(SECRET);
  /** What the calls placed so far came to, as the double saw callguard answer them. */
  const placed = { screened: 0, blocked: 0, popup: 0, wrap: 0 };
  let popupRuleId = 0;

  /** Places one call and counts how callguard answered it. */
  const place = async (called: string, agent = 'agent-1', task = 'campaign-7'): Promise<string> => {
    for (let i = 0; i < 100; i++) {
      const call = double.placeCall({
        called,
        calling: '201',
        args: ['outbound', task],
        variables: { CALLGUARD_TENANT: TENANT, CALLGUARD_AGENT: agent },
      });
      if (call) {
        await call.done;
        const result = call.setVariables.find(([n]) => n === 'CALLGUARD_RESULT')?.[1] ?? '';
        const operation = call.setVariables.find(([n]) => n === 'CALLGUARD_OPERATION')?.[1];
        placed.screened++;
        if (result === 'block') placed.blocked++;
        if (operation === 'pop_up') placed.popup++;
        if (operation === 'auto_wrap_up') placed.wrap++;
        return result;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the ARI double never had the app connected\n${server.output().slice(-3000)}`);
  };

  const shot = (name: string) =>
    page.screenshot({ path: join(shots.dir, `${name}.png`), fullPage: true, animations: 'disabled' });
  const text = async (l: Locator) => ((await l.textContent()) ?? '').trim();
  /** Sums a column of a chart's data table (the figures screen readers get). */
  const columnSum = async (chart: string, column: number) => {
    const cells = await page
      .getByRole('figure', { name: new RegExp(chart) })
      .locator(`table.chart-data tbody tr[data-at] td:nth-of-type(${column})`)
      .allTextContents();
    return cells.reduce((n, c) => n + Number(c), 0);
  };
  /** Clicks Refresh until `check` holds (the nodes write their counts about once a second). */
  const refreshUntil = async (what: string, check: () => Promise<boolean>) => {
    for (let i = 0; i < 60; i++) {
      if (await check()) return;
      await page.getByRole('button', { name: 'Refresh' }).click();
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(
      `the dashboard never showed ${what}:\n${await text(page.locator('main'))}\n--- server:\n${server.output().slice(-4000)}`,
    );
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    redis = await startRedis({ private: true });
    await receiver.start();
    double = new AriDouble({ channelvars: [...INPUT_VARIABLES] });
    const ariUrl = await double.start();
    server = await startCallguard(redis.url, {
      roles: 'api,worker,ari',
      env: { ARI_URL: ariUrl, ARI_USERNAME: 'test', ARI_PASSWORD: 'test' },
    });
    const system = apiClient(server.url, server.systemKey);
    await system('POST', '/v1/tenants', { id: TENANT, name: 'Initech' });
    await system('PATCH', `/v1/tenants/${TENANT}/params`, { allowPrivateWebhookTargets: true });
    const adminKey = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, { name: 'admin' }))
      .key;
    const admin = apiClient(server.url, adminKey);
    await admin('PATCH', '/v1/params', {
      webhooks: { agentDesktopUrl: receiver.url('/desk'), campaignEngineUrl: receiver.url('/campaign') },
      webhookSecret: SECRET,
    });
    await admin('PUT', '/v1/types/popup', {
      name: 'Supervisor pop-up',
      operation: 'pop_up',
      promptContent: 'Toll-free: ask a supervisor first.',
      jumpAddress: 'https://crm.example/toll-free',
    });
    await admin('PUT', '/v1/types/wrap', {
      name: 'Wrap up DNC',
      operation: 'auto_wrap_up',
      businessResult: 'DNC',
    });
    await admin('PUT', '/v1/groups/vip', { name: 'VIP customers' });
    await admin('PUT', '/v1/tasks/campaign-7/groups', { groups: ['vip'] });
    popupRuleId = (
      await admin<{ rule: { id: number } }>('POST', '/v1/rules', {
        called: '_1800!',
        direction: 'outbound',
        action: 'block',
        typeId: 'popup',
        remarks: 'toll-free numbers',
      })
    ).rule.id;
    await admin('POST', '/v1/rules', {
      called: WRAP_NUMBER,
      direction: 'outbound',
      action: 'block',
      typeId: 'wrap',
      groupId: 'vip',
    });
    await double.waitForApp(30_000);
    // The call node syncs the rules first: calls until the last rule written decides one.
    for (let i = 0; i < 100 && (await place(WRAP_NUMBER)) !== 'block'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 3; i++) await place(POPUP_NUMBER);
    for (let i = 0; i < 4; i++) await place(ALLOWED_NUMBER);

    browser = await openBrowser({ viewport: { width: 1280, height: 900 } });
    page = browser.page;
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${server.url}/console/`);
    await page.getByLabel('API key').fill(adminKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await double?.stop();
    await receiver.stop();
    await redis?.stop();
    shots.remove();
  });

  it('lands on the dashboard, whose figures and chart tables match the calls placed', async () => {
    await page.getByRole('heading', { name: 'Dashboard', level: 1 }).waitFor(WAIT);
    assert.ok(placed.popup === 3 && placed.wrap >= 1, JSON.stringify(placed));
    const screened = page.locator('[data-figure="hour-screened"]');
    await refreshUntil('the figures', async () => (await screened.count()) === 1);
    await refreshUntil(
      `${placed.screened} calls screened`,
      async () => (await text(screened)) === String(placed.screened),
    );
    assert.equal(await text(page.locator('[data-figure="hour-blocked"]')), String(placed.blocked));
    assert.equal(await text(page.locator('[data-figure="week-screened"]')), String(placed.screened));
    assert.equal(await columnSum('Calls per minute', 1), placed.screened);
    assert.equal(await columnSum('Calls per minute', 2), placed.blocked);
    assert.equal(await columnSum('Calls per hour', 1), placed.screened);
    assert.equal(await columnSum('Calls per hour', 2), placed.blocked);
    // One bar chart per series drawn on a canvas.
    assert.equal(await page.locator('figure.chart canvas').count(), 2);

    /** The Blocked cell of a figures table's row. */
    const blocked = (table: string, row: string) =>
      text(page.locator(`table.${table} tbody tr`, { hasText: row }).locator('td').first());
    assert.equal(await blocked('by-type', 'Supervisor pop-up'), '3');
    assert.equal(await blocked('by-type', 'Wrap up DNC'), String(placed.wrap));
    assert.equal(await blocked('by-group', 'VIP customers'), String(placed.wrap));
    assert.equal(await blocked('by-group', 'Global rules'), '3');

    const top = page.locator(`table.top-rules tr[data-rule-id="${popupRuleId}"]`);
    assert.match(await text(top), /_1800!.*outbound.*block.*Supervisor pop-up/s);
    assert.equal(await text(top.locator('td').nth(4)), '3', 'hits of the pop-up rule');

    await refreshUntil('the pop-ups delivered and the call node', async () => {
      const popups = await text(page.locator('table.deliveries tr[data-type="agent.popup"]'));
      const nodes = await page.locator('table.nodes tbody tr th').count();
      return popups.startsWith(`Pop-ups${placed.popup}`) && nodes === 1;
    });
    assert.match(await text(page.locator('table.nodes tbody tr')), /current/);
    await assertAccessible(page, 'the dashboard');
    await shot('dashboard');
    // Dark mode: the charts are drawn again in its colours, and everything stays readable (contrast).
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.waitForFunction(
      () => getComputedStyle(document.documentElement).backgroundColor !== 'rgb(245, 246, 248)',
    );
    await assertAccessible(page, 'the dashboard in dark mode');
    await shot('dashboard-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Each top rule links to the rule on the Blocklist page.
    await top.getByRole('link').click();
    const dialog = page.getByRole('dialog', { name: `Edit rule ${popupRuleId}` });
    await dialog.waitFor(WAIT);
    assert.match(page.url(), new RegExp(`#/blocklist/rule/${popupRuleId}$`));
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached', ...WAIT });
    assert.match(page.url(), /#\/blocklist$/);
  });

  it('shows the latest decisions on the live page, then each new one as it happens', async () => {
    await page.getByRole('link', { name: 'Live decisions' }).click();
    await page.getByRole('heading', { name: 'Live decisions', level: 1 }).waitFor(WAIT);
    const rows = page.locator('table.decisions tbody tr[data-decision-id]');
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await rows.nth(placed.screened - 1).waitFor(WAIT);
    assert.equal(await rows.count(), placed.screened);
    assert.match(await text(rows.first()), new RegExp(`allow.*${ALLOWED_NUMBER}.*campaign-7.*agent-1`, 's'));

    await place('12125550111', 'agent-3');
    await rows.filter({ hasText: '12125550111' }).waitFor(WAIT);
    assert.match(await text(rows.first()), /12125550111.*agent-3/s);
    await assertAccessible(page, 'the live decisions page');
    await shot('live');
  });

  it('filters by result and agent on the server, and holds still while the user scrolls back', async () => {
    const rows = page.locator('table.decisions tbody tr[data-decision-id]');
    const filters = page.getByRole('form', { name: 'Filter decisions' });
    await filters.getByLabel('Result').selectOption('block');
    await filters.getByLabel('Agent').fill('agent-9');
    await filters.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('Waiting for calls…').waitFor(WAIT);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await place('12125550122', 'agent-9');
    await place(POPUP_NUMBER, 'agent-9');
    await rows.first().waitFor(WAIT);
    assert.equal(await rows.count(), 1);
    assert.match(await text(rows.first()), new RegExp(`block.*${POPUP_NUMBER}.*agent-9.*pop up`, 's'));

    await filters.getByRole('button', { name: 'Clear' }).click();
    await rows.nth(placed.screened - 1).waitFor(WAIT);
    // A laptop screen: the list scrolls.
    await page.setViewportSize({ width: 1280, height: 600 });
    // Scrolling back through the list pauses it; what arrives waits behind "N new".
    await page.getByRole('region', { name: 'Decisions', exact: true }).evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.getByRole('status').filter({ hasText: 'Paused' }).waitFor(WAIT);
    const before = await rows.count();
    await place('12125550133', 'agent-4');
    const resume = page.getByRole('button', { name: '1 new · Resume' });
    await resume.waitFor(WAIT);
    assert.equal(await rows.count(), before, 'the list holds still');
    assert.equal(await rows.filter({ hasText: '12125550133' }).count(), 0);
    await resume.click();
    await rows.filter({ hasText: '12125550133' }).waitFor(WAIT);
    assert.match(await text(rows.first()), /12125550133/);
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await assertAccessible(page, 'the live decisions page, paused and resumed');
  });

  it('raised no page or console error', () => {
    assert.deepEqual(browser.pageErrors, []);
  });
});
