import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
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
 * The Contact policies page in Debian's Chromium against a real `callguard serve` and Redis: a policy
 * made in the week grid with a cap, bound to a task on Task bindings, then a call of that task checked
 * at a time outside its hours, refused with the policy's reason.
 */
const TENANT = 'initech';

describe.skipIf(skipWithoutChromium || skipWithoutLocalRedis)('console contact policies', () => {
  let redis: TestRedis;
  let server: RunningCallguard;
  let browser: ConsoleBrowser;
  const shots = screenshotDir('cg-policy-shots');
  let page: Page;
  let admin: ReturnType<typeof apiClient>;

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
    await system('POST', '/v1/tenants', { id: TENANT, name: 'Initech' });
    const key = (await system<{ key: string }>('POST', `/v1/tenants/${TENANT}/keys`, { name: 'admin' })).key;
    admin = apiClient(server.url, key);
    await admin('PUT', '/v1/types/outside-hours', {
      name: 'Outside calling hours',
      operation: 'auto_wrap_up',
      businessResult: 'outside calling hours',
    });

    browser = await openBrowser({ viewport: { width: 1280, height: 900 } });
    page = browser.page;
    page.on('dialog', (d) => void d.accept());
    await signIn(page, server.url, key);
  });

  afterAll(async () => {
    await browser?.close();
    shots.remove();
    await server?.stop();
    await redis?.stop();
  });

  it('creates a policy in the week grid with a cap; a wrong zone is shown at its field', async () => {
    await open('Contact policies', 'Contact policies');
    await page.getByText('No contact policies yet.').waitFor(WAIT);
    await page.getByRole('button', { name: 'New policy' }).click();
    const dialog = page.getByRole('dialog', { name: 'New contact policy' });
    await assertAccessible(page, 'the new contact policy dialog');
    await dialog.getByLabel('Id', { exact: true }).fill('us-hours');
    await dialog.getByLabel('Name', { exact: true }).fill('US calling hours');
    await dialog.getByLabel('Time zone of the hours').selectOption('fixed');
    await dialog.getByLabel('IANA zone').fill('America/Chicgo');
    // A new policy starts with Mon-Fri 08:00-21:00; Saturday gets 09:00-18:00, Monday is checked as typed.
    assert.equal(await dialog.getByLabel('Monday from', { exact: true }).inputValue(), '08:00');
    assert.equal(await dialog.getByLabel('Friday to', { exact: true }).inputValue(), '21:00');
    await dialog.getByRole('button', { name: 'Add hours on Saturday' }).click();
    await dialog.getByLabel('Saturday from', { exact: true }).fill('09:00');
    await dialog.getByLabel('Saturday to', { exact: true }).fill('18:00');
    await dialog.getByLabel('At most per calendar day').fill('3');
    await dialog.getByLabel('Refused calls get').selectOption('outside-hours');
    await dialog.getByRole('button', { name: 'Save' }).click();

    // The API refuses the misspelt zone; its message lands at the zone's field.
    const zone = dialog.getByLabel('IANA zone');
    await dialog.locator('[aria-invalid="true"]').first().waitFor(WAIT);
    assert.equal(await zone.getAttribute('aria-invalid'), 'true');
    assert.match((await dialog.textContent()) ?? '', /"America\/Chicgo" is not an IANA time zone/);
    await assertAccessible(page, 'the contact policy dialog with a field error');
    await zone.fill('America/Chicago');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await status('Contact policy "US calling hours" saved.');

    const row = page.locator('tr[data-id="us-hours"]');
    const text = (await row.textContent()) ?? '';
    assert.match(text, /America\/Chicago/);
    assert.match(text, /Mon-Fri 08:00–21:00, Sat 09:00–18:00/);
    assert.match(text, /3 a day per tenant/);
    assert.match(text, /Outside calling hours/);
    const saved = await admin<Record<string, unknown>>('GET', '/v1/contact-policies/us-hours');
    assert.deepEqual(saved.window, {
      hours: [
        { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' },
        { days: ['sat'], from: '09:00', to: '18:00' },
      ],
    });
    assert.deepEqual(saved.caps, [{ max: 3, per: 'day' }]);
    assert.equal(saved.typeId, 'outside-hours');

    // Search finds it by name; the edit dialog shows the grid as saved.
    await page.getByLabel('Search', { exact: true }).fill('calling');
    await row.waitFor(WAIT);
    await page.getByRole('button', { name: 'Edit US calling hours' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit contact policy us-hours' });
    assert.equal(await edit.getByLabel('Saturday to', { exact: true }).inputValue(), '18:00');
    assert.equal(await edit.getByLabel('At most per calendar day').inputValue(), '3');
    assert.equal(await edit.locator('tr[data-day="sun"]').getByText('no calls').count(), 1);
    await assertAccessible(page, 'the edit contact policy dialog');
    await page.screenshot({ path: join(shots.dir, 'policies.png'), fullPage: false, animations: 'disabled' });
    await edit.getByRole('button', { name: 'Cancel' }).click();
    await edit.waitFor({ state: 'detached', ...WAIT });
  });

  it('binds the policy to a task; deleting it is then refused with the reason', async () => {
    await open('Task bindings', 'Task bindings');
    await page.getByLabel('Outbound task id').fill('campaign-9');
    await page.getByRole('button', { name: 'Show / edit' }).click();
    await page.getByRole('checkbox', { name: 'US calling hours' }).check();
    await page.getByRole('button', { name: 'Save binding' }).click();
    await status('Task campaign-9 is bound to no group and contact policies us-hours.');
    assert.match(
      (await page.locator('tr[data-task-id="campaign-9"]').textContent()) ?? '',
      /US calling hours/,
    );
    const bound = await admin<{ policies: string[] }>('GET', '/v1/tasks/campaign-9/policies');
    assert.deepEqual(bound.policies, ['us-hours']);

    await open('Contact policies', 'Contact policies');
    await page.getByRole('button', { name: 'Delete US calling hours' }).click();
    const refusal = page.locator('.notice.error');
    await refusal.waitFor(WAIT);
    assert.match((await refusal.textContent()) ?? '', /bound to task\(s\) "campaign-9"; unbind it first/);
    assert.equal(await page.locator('tr[data-id="us-hours"]').count(), 1, 'the policy is still there');
  });

  it('checks a call of the task at a time outside the window: refused, with the policy and its reason', async () => {
    await open('Blocklist', 'Blocklist');
    const check = page.getByRole('region', { name: 'Check a call' });
    await check.getByLabel('Called number').fill('13125550100');
    await check.getByLabel('Direction').selectOption('outbound');
    await check.getByLabel('Task').fill('campaign-9');
    // Sunday 2026-12-06 15:00 UTC is 09:00 in Chicago: Sunday has no hours.
    await check.getByLabel('At (optional)').fill('2026-12-06T15:00');
    await check.getByRole('button', { name: 'Check' }).click();
    const decision = check.locator('output.decision');
    await decision.locator('.policy-reason').waitFor(WAIT);
    assert.equal(((await decision.locator('.badge').textContent()) ?? '').trim(), 'block');
    assert.match(
      (await decision.textContent()) ?? '',
      /Refused by contact policy\s*US calling hours \(us-hours\)/,
    );
    assert.match(
      (await decision.locator('.policy-reason').textContent()) ?? '',
      /^Sun 09:00 America\/Chicago is outside Mon-Fri 08:00-21:00/,
    );
    await assertAccessible(page, 'the check form with a policy refusal');

    // The same call on Monday 09:00 Chicago is inside the window: allowed, no policy named.
    await check.getByLabel('At (optional)').fill('2026-12-07T15:00');
    await check.getByRole('button', { name: 'Check' }).click();
    await decision.locator('.badge', { hasText: 'allow' }).waitFor(WAIT);
    assert.equal(await decision.locator('.policy-reason').count(), 0);
  });

  it('raised no page or console error', () => {
    assert.deepEqual(browser.pageErrors, []);
  });
});
