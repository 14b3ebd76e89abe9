import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { freePort } from '../../src/store/redis-process.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
/** The flags CI and developers launch Debian's Chromium with: no sandbox (root in a container), nothing phoned home. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const skipWithoutChromium: string | false = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium) to run the console end-to-end tests`;

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds console/dist when it is missing or older than its sources, so a fresh clone needs no manual step. */
export function ensureConsoleBuilt(): void {
  const index = join(REPO, 'console/dist/index.html');
  const sources = Math.max(
    newestMtime(join(REPO, 'console/src')),
    statSync(join(REPO, 'console/index.html')).mtimeMs,
    statSync(join(REPO, 'console/vite.config.ts')).mtimeMs,
  );
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(
    process.execPath,
    [vite, 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`building the console failed:\n${r.stdout}\n${r.stderr}`);
}

export interface RunningCallguard {
  readonly url: string;
  readonly systemKey: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/**
 * `callguard serve --roles api,worker` (or `options.roles`) as a child process on a free loopback
 * port, against the given Redis; `options.env` adds variables (ARI_URL for the ari role).
 */
export async function startCallguard(
  redisUrl: string,
  options: { roles?: string; env?: Record<string, string> } = {},
): Promise<RunningCallguard> {
  const port = await freePort();
  const systemKey = `sys-${randomBytes(16).toString('hex')}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'cg-console-'));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--roles', options.roles ?? 'api,worker'],
    {
      cwd: REPO,
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        CALLGUARD_HTTP_HOST: '127.0.0.1',
        CALLGUARD_HTTP_PORT: String(port),
        CALLGUARD_SYSTEM_KEY: systemKey,
        CALLGUARD_DATA_DIR: dataDir,
        CALLGUARD_EMBEDDED_REDIS: 'never',
        CALLGUARD_SECRET_KEY: randomBytes(32).toString('base64'),
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Bounded wait for the API to answer.
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return { url, systemKey, output: () => output, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(`callguard serve did not start:\n${output}`);
}

/** A small client for setting the scene through the public API. */
export function apiClient(url: string, key: string) {
  return async <T = unknown>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

/** A rules CSV in the import template's columns: `count` outbound blocks in one group and type, and one bad row. */
export function rulesCsv(count: number, prefix: string, group: string, type: string, ou: string): string {
  const lines = ['called,direction,action,group,type,ou,remarks'];
  for (let i = 0; i < count; i++) {
    lines.push(`${prefix}${String(i).padStart(6, '0')},outbound,block,${group},${type},${ou},imported ${i}`);
  }
  // One bad row: reported in the errors file with its line, the good rows still land.
  lines.push(`1777ABC,outbound,block,${group},${type},${ou},bad number`);
  return `${lines.join('\n')}\n`;
}

/**
 * What a page said went wrong: uncaught errors ('pageerror') and console errors. Chromium logs every
 * 4xx answer as "Failed to load resource"; those are the API's refusals, which the console shows to
 * the user on purpose (a refused delete, a wrong key), so they are not counted. `allow` adds patterns
 * a test expects (a network drop it causes).
 */
export function watchPage(page: Page, allow: readonly RegExp[] = []): string[] {
  const errors: string[] = [];
  const expected = [/^Failed to load resource: the server responded with a status of 4\d\d/, ...allow];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const text = m.text();
    if (!expected.some((re) => re.test(text))) errors.push(`console.error: ${text} (${m.location().url})`);
  });
  return errors;
}

/** How long a step of a console test may wait for the page. */
export const WAIT = { timeout: Number(process.env.CONSOLE_E2E_WAIT_MS ?? 60_000) };

/**
 * Where a test file's screenshots go: docs/console under CONSOLE_SCREENSHOTS=1 (the README's
 * pictures), else a temporary folder that `remove` deletes.
 */
export function screenshotDir(prefix: string): { readonly dir: string; remove(): void } {
  const keep = process.env.CONSOLE_SCREENSHOTS === '1';
  const dir = keep ? join(REPO, 'docs/console') : mkdtempSync(join(tmpdir(), `${prefix}-`));
  mkdirSync(dir, { recursive: true });
  return { dir, remove: () => (keep ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

export interface ConsoleBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Page errors and console errors of `page` (watchPage). */
  readonly pageErrors: string[];
  /** Closes the browser and deletes its profile. */
  close(): Promise<void>;
}

/**
 * Debian's Chromium with a new empty profile, in UTC and en-US (the pages' times and numbers are
 * then known), its first page watched for errors.
 */
export async function openBrowser(
  options: { viewport?: { width: number; height: number }; acceptDownloads?: boolean } = {},
): Promise<ConsoleBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'cg-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: options.viewport ?? { width: 1280, height: 800 },
    acceptDownloads: options.acceptDownloads ?? false,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(WAIT.timeout);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    pageErrors: watchPage(page),
    close: async () => {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in on the console's front page with `key` and waits for the landing page. */
export async function signIn(page: Page, url: string, key: string, landing = 'Dashboard'): Promise<void> {
  await page.goto(`${url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: landing, level: 1 }).waitFor(WAIT);
}

const AXE_SOURCE = readFileSync(join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core in the page as it is now and fails on any serious or critical violation, naming the
 * rule, the elements and how to fix them. The script is evaluated through the DevTools protocol,
 * which the page's content security policy does not govern (the policy itself stays on).
 */
export async function assertAccessible(page: Page, where: string): Promise<void> {
  const loaded = await page.evaluate(() => typeof (window as { axe?: unknown }).axe !== 'undefined');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<AxeResults> } })
      .axe;
    interface AxeResults {
      violations: Array<{
        id: string;
        impact: string | null;
        help: string;
        nodes: Array<{ target: unknown[]; failureSummary?: string }>;
      }>;
    }
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({
        rule: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ''}`),
      }));
  });
  if (violations.length > 0) {
    throw new Error(
      `axe-core found serious accessibility problems on ${where}:\n${JSON.stringify(violations, null, 2)}`,
    );
  }
}
