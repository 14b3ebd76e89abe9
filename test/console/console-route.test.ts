import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ApiApp } from '../../src/api/api-deps.js';
import { registerConsoleRoutes, serveConsole } from '../../src/api/console-route.js';
import { errorHandler, notFoundHandler } from '../../src/api/http-errors.js';
import { silentLogger } from '../../src/log.js';

function appServing(dir: string): ApiApp {
  const app = Fastify({ routerOptions: { ignoreTrailingSlash: true } }) as unknown as ApiApp;
  app.setErrorHandler(errorHandler(silentLogger));
  app.setNotFoundHandler(notFoundHandler);
  serveConsole(app, { dir });
  return app;
}

describe('console route', () => {
  let dist: string;
  let app: ApiApp;

  beforeAll(async () => {
    dist = mkdtempSync(join(tmpdir(), 'cg-console-dist-'));
    mkdirSync(join(dist, 'assets'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dist, 'assets', 'app-1a2b.js'), 'export {};');
    writeFileSync(join(dirname(dist), 'outside-secret.txt'), 'secret');
    app = appServing(dist);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    rmSync(dist, { recursive: true, force: true });
    rmSync(join(dirname(dist), 'outside-secret.txt'), { force: true });
  });

  it('serves the page at /console and /console/ with a strict content security policy', async () => {
    for (const url of ['/console', '/console/']) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(res.headers['content-type'] as string, /^text\/html/);
      assert.match(res.headers['content-security-policy'] as string, /default-src 'self'/);
      assert.match(res.headers['content-security-policy'] as string, /connect-src 'self'/);
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.match(res.body, /<title>console<\/title>/);
    }
  });

  it('serves hashed assets as cacheable, and app paths as the page', async () => {
    const js = await app.inject({ url: '/console/assets/app-1a2b.js' });
    assert.equal(js.statusCode, 200);
    assert.match(js.headers['content-type'] as string, /^text\/javascript/);
    assert.match(js.headers['cache-control'] as string, /immutable/);
    const page = await app.inject({ url: '/console/tasks' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<title>console/);
  });

  it('refuses paths that leave the folder and missing files, as 404 with the error body', async () => {
    for (const url of [
      '/console/../outside-secret.txt',
      '/console/%2e%2e/outside-secret.txt',
      '/console/assets/%2e%2e/%2e%2e/outside-secret.txt',
      '/console/..%5coutside-secret.txt',
      '/console/%00.js',
      '/console/assets/missing.js',
    ]) {
      const res = await app.inject({ url });
      assert.equal(res.statusCode, 404, url);
      assert.doesNotMatch(res.body, /secret$/, url);
      assert.equal(res.json().code, 'CG_ERR_NOT_FOUND', url);
    }
  });

  it('says how to build the console when it is not built', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cg-console-empty-'));
    const bare = appServing(empty);
    try {
      const res = await bare.inject({ url: '/console' });
      assert.equal(res.statusCode, 503);
      assert.match(res.json().message, /npm run build:console/);
    } finally {
      await bare.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('registers once when listed twice', async () => {
    const twice = appServing(dist);
    registerConsoleRoutes(twice);
    await twice.ready();
    assert.equal((await twice.inject({ url: '/console' })).statusCode, 200);
    await twice.close();
  });
});
