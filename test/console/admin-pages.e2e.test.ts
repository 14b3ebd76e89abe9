import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { DeadLetterRepository } from '../../src/store/dead-letter-repository.js';
import { skipWithoutLocalRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import {
  apiClient,
  assertAccessible,
  type ConsoleBrowser,
  ensureConsoleBuilt,
  openBrowser,
  type RunningCallguard,
  screenshotDir,
  signIn,
  skipWithoutChromium,
  startCallguard,
  WAIT,
} from './console-support.js';

/**
 * The console's admin pages (groups, types, OUs, API keys, parameters, file servers, dead letters) in
 * Debian's Chromium against a real `callguard serve` and Redis, driven as an administrator would.
 */
const TENANT = 'globex';

describe.skipIf(skipWithoutChromium || skipWithoutLocalRedis)('console admin pages', () => {
  let redis: TestRedis;
  let server: RunningCallguard;
  let browser: ConsoleBrowser;
  const shots = screenshotDir('cg-admin-shots');
  let page: Page;
  let adminKey: string;
  let admin: ReturnType<typeof apiClient>;

  const shot = async (name: string) => {
    await assertAccessible(page, name);
    await page.screenshot({ path: join(shots.dir, `${name}.png`), fullPage: false, animations: 'disabled' });
  };
  /** Opens a page from the navigation and checks it with axe-core as it first shows. */
  const open = async (link: string, heading: string) => {
    await page.getByRole('link', { name: link, exact: true }).click();
    await page.getByRole('heading', { name: heading, level: 1 }).waitFor(WAIT);
    await assertAccessible(page, `the ${heading} page`);
  };
  const status = (text: string | RegExp) => page.getByRole('status').filter({ hasText: text }).waitFor(WAIT);

  beforeAll(async () => {
    ensureConsoleBuilt();
    redis = await startRedis({ private: true });
    server = await startCallguard(redis.url);
    const system = apiClient(server.url, server.systemKey);
    await system('POST', '/v1/tenants', { id: TENANT, name: 'Globex' });
    adminKey = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, { name: 'admin' })).key;
    admin = apiClient(server.url, adminKey);
    await admin('PUT', '/v1/ous/north', { name: 'North' });

    browser = await openBrowser({ viewport: { width: 1280, height: 800 } });
    page = browser.page;
    page.on('dialog', (d) => void d.accept());
    await signIn(page, server.url, adminKey);
  });

  afterAll(async () => {
    await browser?.close();
    shots.remove();
    await server?.stop();
    await redis?.stop();
  });

  it('OUs, groups and types: create, edit, search, and a delete the API refuses is explained', async () => {
    await open('OUs', 'OUs');
    await page.getByRole('button', { name: 'New OU' }).click();
    let dialog = page.getByRole('dialog', { name: 'New OU' });
    await dialog.getByLabel('Id').fill('south');
    await dialog.getByLabel('Name').fill('South');
    await dialog.getByLabel('Parent OU').selectOption('north');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await status('OU "South" saved.');
    assert.match((await page.locator('tr[data-id="south"]').textContent()) ?? '', /South.*North/);

    await open('Groups', 'Groups');
    await page.getByRole('button', { name: 'New group' }).click();
    dialog = page.getByRole('dialog', { name: 'New group' });
    await dialog.getByLabel('Id').fill('dnc');
    await dialog.getByLabel('Name').fill('Do not call');
    await dialog.getByLabel('OU', { exact: true }).selectOption('south');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await status('Group "Do not call" saved.');

    await open('Types', 'Types');
    await page.getByRole('button', { name: 'New type' }).click();
    dialog = page.getByRole('dialog', { name: 'New type' });
    await dialog.getByLabel('Id').fill('popup');
    await dialog.getByLabel('Name').fill('Agent pop-up');
    await dialog.getByLabel('Operation type').selectOption('pop_up');
    await dialog.getByRole('button', { name: 'Save' }).click();
    // The API's field errors land at the fields.
    await dialog.locator('[aria-invalid="true"]').first().waitFor(WAIT);
    await dialog.getByLabel('Prompt content').fill('Do not dial: customer asked');
    await dialog.getByLabel('Jump address').fill('https://crm.example/dnc');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await status('Type "Agent pop-up" saved.');
    await page.locator('tr[data-id="popup"]', { hasText: 'Pop Up' }).waitFor(WAIT);
    await shot('types');

    // A rule uses the group: its delete is refused and the reason is shown.
    await admin('POST', '/v1/rules', { called: '15550003333', groupId: 'dnc', direction: 'outbound' });
    await open('Groups', 'Groups');
    await page.getByLabel('Search', { exact: true }).fill('not c');
    await page.locator('tr[data-id="dnc"]').waitFor(WAIT);
    await page.getByRole('button', { name: 'Delete Do not call' }).click();
    await page.getByRole('alert').or(page.locator('.notice.error')).first().waitFor(WAIT);
    assert.equal(await page.locator('tr[data-id="dnc"]').count(), 1, 'the group is still there');
    await page.getByRole('button', { name: 'Edit Do not call' }).click();
    dialog = page.getByRole('dialog', { name: 'Edit group dnc' });
    await dialog.getByLabel('Description').fill('national DNC list');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await status('Group "Do not call" saved.');
    assert.match((await page.locator('tr[data-id="dnc"]').textContent()) ?? '', /national DNC list/);
    await shot('groups');
  });

  it('API keys: a new agent key is shown once, listed with its expiry, and revoked', async () => {
    await open('API keys', 'API keys');
    await page.getByRole('button', { name: 'New key' }).click();
    const dialog = page.getByRole('dialog', { name: 'New API key' });
    await dialog.getByLabel('Name').fill('night agent');
    await dialog.getByLabel('Expires').fill('2030-01-31T18:00');
    await dialog.getByRole('checkbox', { name: 'rules:create' }).check();
    await dialog.getByRole('checkbox', { name: 'South' }).check();
    await dialog.getByRole('button', { name: 'Create key' }).click();
    const once = page.locator('.once');
    await once.waitFor(WAIT).catch(async (e: Error) => {
      throw new Error(`${e.message}\n--- dialog:\n${await dialog.textContent()}`);
    });
    const key = ((await once.locator('code').textContent()) ?? '').trim();
    assert.match(key, /^cgk\.globex\./);
    const row = page.locator('table.keys tr', { hasText: 'night agent' });
    assert.match((await row.textContent()) ?? '', /rules:create.*2030-01-31 18:00/s);
    assert.match((await row.textContent()) ?? '', /south/);
    await shot('keys');
    await once.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.locator('.once').count(), 0, 'the key is gone from the page');
    const check = await fetch(`${server.url}/v1/rules`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(check.status, 200);
    await page.getByRole('button', { name: 'Revoke night agent' }).click();
    await status('Key night agent revoked.');
    // The list is read again after the notice: the row goes once that answer is in.
    await page.locator('table.keys tr', { hasText: 'night agent' }).waitFor({ state: 'detached', ...WAIT });
  });

  it('parameters: failure policy, normalisation and webhooks, with a field error from the API', async () => {
    await open('Parameters', 'Parameters');
    await page.getByLabel('Normalisation').selectOption('e164');
    await page.getByLabel('Default country').fill('ZZ');
    await page.getByLabel('Inbound calls when callguard cannot decide').selectOption('fail-closed');
    await page.getByRole('button', { name: 'Save parameters' }).click();
    await page.locator('[aria-invalid="true"]').first().waitFor(WAIT);
    await page.getByLabel('Default country').fill('US');
    await page.getByLabel('Hang-up cause (Q.850)').fill('17');
    await page.getByRole('button', { name: 'Save parameters' }).click();
    await status(/Parameters saved/);
    const params = await admin<Record<string, unknown>>('GET', '/v1/params');
    assert.deepEqual(params.normalization, { mode: 'e164', defaultCountry: 'US' });
    assert.deepEqual(params.failurePolicy, { inbound: 'fail-closed', outbound: 'fail-closed' });
    assert.equal(params.hangupCause, 17);
    await page.getByRole('heading', { name: 'Set by the operator' }).waitFor(WAIT);
    await shot('params');
  });

  it('file servers: added with a pinned host key fingerprint, listed without secrets, removed', async () => {
    await open('File servers', 'File servers');
    await page.getByRole('button', { name: 'New file server' }).click();
    const dialog = page.getByRole('dialog', { name: 'New file server' });
    await dialog.getByLabel('Name', { exact: true }).fill('backup');
    await dialog.getByLabel('Host', { exact: true }).fill('127.0.0.1');
    await dialog.getByLabel('User name').fill('callguard');
    await dialog.getByLabel('Password', { exact: true }).fill('s3cret-Password');
    await dialog.getByLabel('Root folder').fill('/srv/callguard');
    await dialog
      .getByLabel('Host key fingerprint')
      .fill('SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8');
    await dialog.getByRole('button', { name: 'Add file server' }).click();
    await status('File server "backup" added.');
    const row = page.locator('table.servers tr', { hasText: 'backup' });
    const text = (await row.textContent()) ?? '';
    assert.match(text, /127\.0\.0\.1:22.*password.*SHA256:nThbg6kX/s);
    assert.ok(!(await page.content()).includes('s3cret-Password'), 'the password is never shown');
    await shot('file-servers');
    await page.getByRole('button', { name: 'Remove backup' }).click();
    await status('File server "backup" removed.');
  });

  it('dead letters: the body as sent is inspected, one redelivered, one dismissed', async () => {
    const dead = new DeadLetterRepository(redis.client());
    for (const n of [1, 2]) {
      await dead.add(
        {
          tenant: TENANT,
          eventId: `evt-${n}`,
          type: 'agent.popup',
          target: 'agentDesktop',
          body: JSON.stringify({ id: `evt-${n}`, type: 'agent.popup', data: { number: `1555000${n}` } }),
        } as never,
        { url: 'https://desktop.example/hook', attempts: 8, status: 503, error: 'HTTP 503', at: Date.now() },
      );
    }
    await open('Dead letters', 'Dead letters');
    await page.getByRole('button', { name: 'Inspect evt-2' }).click();
    const dialog = page.getByRole('dialog', { name: /^Dead letter / });
    assert.match((await dialog.locator('pre').textContent()) ?? '', /"number": "15550002"/);
    await shot('dead-letters');
    await dialog.getByRole('button', { name: 'Dismiss' }).click();
    await status(/dismissed/);
    await page.getByRole('button', { name: 'Redeliver evt-1' }).click();
    await status('Event evt-1 queued for delivery again.');
    await page.getByText('No dead letters: every webhook was delivered.').waitFor(WAIT);
  });

  it('raised no page or console error', () => {
    assert.deepEqual(browser.pageErrors, []);
  });
});
