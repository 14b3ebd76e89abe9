import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { INPUT_VARIABLES } from '../../src/pbx/asterisk/ari-call-reader.js';
import { AriDouble, type DoubleCall } from '../pbx/asterisk/ari-double.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import {
  apiClient,
  assertAccessible,
  CHROMIUM,
  CHROMIUM_FLAGS,
  ensureConsoleBuilt,
  REPO,
  type RunningCallguard,
  skipWithoutChromium,
  startCallguard,
  watchPage,
} from './console-support.js';
import { CuttableProxy } from './cuttable-proxy.js';

/** Screenshots to docs/console/ with CONSOLE_SCREENSHOTS=1, as in console.e2e.test.ts. */
const SHOTS =
  process.env.CONSOLE_SCREENSHOTS === '1'
    ? join(REPO, 'docs/console')
    : mkdtempSync(join(tmpdir(), 'cg-agent-shots-'));
const WAIT = { timeout: Number(process.env.CONSOLE_E2E_WAIT_MS ?? 60_000) };
const TENANT = 'acme';
const AGENT = 'agent-42';
const POPUP_NUMBER = '18005550199';

/**
 * The agent desktop (/console/agent) in Debian's Chromium against `callguard serve --roles
 * api,worker,ari` connected to the ARI double: a call placed on the double is blocked by a Pop Up
 * rule, and its pop-up appears on the agent's page, live, and again after a network drop.
 */
describe.skipIf(skipWithoutChromium || skipWithoutLocalRedis)('agent desktop', () => {
  let redis: TestRedis;
  let double: AriDouble;
  let server: RunningCallguard;
  /** The browser reaches callguard through it, so the test can drop the agent's network. */
  let proxy: CuttableProxy;
  let pageUrl: string;
  let context: BrowserContext;
  let page: Page;
  let agentKey: string;
  let calls = 0;
  let pageErrors: string[] = [];

  /** Places calls until one is decided by the pop-up rule (the call node syncs the rules first). */
  const placePopupCall = async (): Promise<DoubleCall> => {
    let last: DoubleCall | undefined;
    for (let i = 0; i < 50; i++) {
      const call = double.placeCall({
        called: POPUP_NUMBER,
        calling: '201',
        args: ['outbound', 'campaign-7'],
        variables: { CALLGUARD_TENANT: TENANT, CALLGUARD_AGENT: AGENT },
      });
      if (call) {
        calls++;
        last = call;
        await call.done;
        if (call.setVariables.some(([n, v]) => n === 'CALLGUARD_OPERATION' && v === 'pop_up')) return call;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(
      `no call was decided by the pop-up rule; the last one set ${JSON.stringify(last?.setVariables)}\n${server.output().slice(-3000)}`,
    );
  };

  beforeAll(async () => {
    ensureConsoleBuilt();
    mkdirSync(SHOTS, { recursive: true });
    redis = await startRedis({ private: true });
    double = new AriDouble({ channelvars: [...INPUT_VARIABLES] });
    const ariUrl = await double.start();
    server = await startCallguard(redis.url, {
      roles: 'api,worker,ari',
      env: { ARI_URL: ariUrl, ARI_USERNAME: 'test', ARI_PASSWORD: 'test' },
    });
    const system = apiClient(server.url, server.systemKey);
    await system('POST', '/v1/tenants', { id: TENANT, name: 'Acme' });
    const adminKey = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, { name: 'admin' }))
      .key;
    const admin = apiClient(server.url, adminKey);
    await admin('PUT', '/v1/types/Ask%20a%20supervisor', {
      name: 'Ask a supervisor',
      operation: 'pop_up',
      promptContent: 'This number asked not to be called. Ask a supervisor before calling back.',
      jumpAddress: `https://crm.example/contacts/${POPUP_NUMBER}`,
      businessResult: 'SUPERVISOR',
    });
    await admin('POST', '/v1/rules', {
      called: '_1800!',
      direction: 'outbound',
      typeId: 'Ask a supervisor',
      remarks: 'toll-free numbers need a supervisor',
    });
    agentKey = (
      await admin<{ key: string }>('POST', '/v1/keys', { name: 'agent 42', role: 'agent', agentId: AGENT })
    ).key;
    const { hostname, port } = new URL(server.url);
    proxy = new CuttableProxy({ host: hostname, port: Number(port) });
    pageUrl = await proxy.start();
    await double.waitForApp(30_000);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
    page = await context.newPage();
    // The test cuts the network: the browser reports the failed stream and its reconnects.
    pageErrors = watchPage(page, [/net::ERR_/]);
  });

  afterAll(async () => {
    await context?.browser()?.close();
    await proxy?.stop();
    await server?.stop();
    await double?.stop();
    await redis?.stop();
  });

  it('signs in with an agent key and shows a blocked call’s pop-up as it happens', async () => {
    await page.goto(`${pageUrl}/console/agent`);
    await page.getByLabel('Agent key').fill(agentKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await placePopupCall();
    const card = page.locator('ol.popups li.popup').first();
    await card.waitFor(WAIT);
    assert.match((await card.textContent()) ?? '', /Ask a supervisor before calling back/);
    assert.match((await card.textContent()) ?? '', new RegExp(POPUP_NUMBER));
    assert.match((await card.textContent()) ?? '', /SUPERVISOR/);
    assert.match((await card.textContent()) ?? '', /campaign-7/);
    const link = card.getByRole('link');
    assert.equal(await link.getAttribute('href'), `https://crm.example/contacts/${POPUP_NUMBER}`);
    assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
    assert.equal(await card.getAttribute('class'), 'popup card fresh');
    await assertAccessible(page, 'the agent desktop');
    await page.screenshot({ path: join(SHOTS, 'agent.png'), animations: 'disabled' });
  });

  it('reconnects after a network drop and shows what happened meanwhile, newest first', async () => {
    const before = await page.locator('ol.popups li.popup').count();
    proxy.cut();
    await page.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor(WAIT);
    // a call while the agent's network is down: its pop-up is waiting in the event stream
    const missed = await placePopupCall();
    proxy.restore();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    await page.locator('ol.popups li.popup').nth(before).waitFor(WAIT);
    const count = await page.locator('ol.popups li.popup').count();
    assert.ok(count >= before + 1, `${count} pop-ups after ${calls} calls`);
    const newest = page.locator('ol.popups li.popup').first();
    assert.match((await newest.textContent()) ?? '', new RegExp(POPUP_NUMBER));
    assert.ok(missed.end === 'hangup');
    assert.deepEqual(pageErrors, []);
  });

  it('keeps the key in the tab only: a reload stays signed in, and the key cookie goes with the tab', async () => {
    await page.reload();
    await page.getByRole('status').filter({ hasText: 'Live' }).waitFor(WAIT);
    assert.equal((await context.cookies()).filter((c) => c.name === 'callguard_key').length, 1);
    await page.close();
    // what the next person at this browser would find: no key to open the agent's stream with
    assert.deepEqual(
      (await context.cookies()).filter((c) => c.name === 'callguard_key'),
      [],
    );
  });
});
