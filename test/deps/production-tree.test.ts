import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, it } from 'vitest';
import { SUPPORTED_NODE } from '../../src/node-support.js';

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } }>;
};
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> };

/** Packages with advisories that a production install must not contain (name → first fixed version). */
const REFUSED: Record<string, (version: string) => boolean> = {
  'ari-client': () => true,
  request: () => true,
  'tough-cookie': (v) => Number(v.split('.')[0]) < 4,
  'form-data': (v) => /^(?:[0-1]\.|2\.[0-4]\.|2\.5\.[0-3]$|3\.0\.[0-3]$|4\.0\.[0-3]$)/.test(v),
};

describe('production dependencies', () => {
  it('a production install (npm ci --omit=dev) has no ari-client, request, tough-cookie < 4 or old form-data', () => {
    assert.equal(pkg.dependencies['ari-client'], undefined, 'ari-client is loaded only when chosen');
    const bad = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.dev)
      .map(([path, p]) => [path.split('node_modules/').pop()!, p.version ?? ''] as const)
      .filter(([name, version]) => REFUSED[name]?.(version));
    assert.deepEqual(bad, []);
  });

  it('every production dependency runs on the oldest releases callguard supports (20.19.0 and 22.12.0)', () => {
    // These two say ">=22" but are ES modules their CommonJS dependents load with require(), which
    // Node.js does from 20.19 (src/node-support.ts); this suite runs them on Node.js 20.
    const requireEsmOnly: Record<string, string> = { cookie: '>=22', 'content-disposition': '>=22' };
    const oldest = SUPPORTED_NODE.split('||').map((range) => semver.minVersion(range)?.version as string);
    assert.deepEqual(oldest, ['20.19.0', '22.12.0']);
    const refused = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && !p.dev && p.engines?.node !== undefined)
      .map(([path, p]) => [path.split('node_modules/').pop()!, p.engines?.node as string] as const)
      .filter(([name, range]) => requireEsmOnly[name] !== range)
      .filter(([, range]) => !oldest.every((version) => semver.satisfies(version, range)));
    assert.deepEqual(refused, []);
  });

  it('the ARI role loads ari-client only when ARI_CLIENT=ari-client is chosen', () => {
    const script = `
      const { createRequire } = await import('node:module');
      const require = createRequire(process.cwd() + '/');
      const { createAriConnection } = await import('./src/pbx/asterisk/ari-service.ts');
      const { silentLogger } = await import('./src/log.ts');
      const cfg = { ARI_URL: 'http://127.0.0.1:1', ARI_USERNAME: 'u', ARI_PASSWORD: 'p', ARI_APP: 'a' };
      createAriConnection({ ...cfg, ARI_CLIENT: 'undici' }, silentLogger);
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/ari-client/'));
      console.log(JSON.stringify({ loaded: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.deepEqual(JSON.parse(out.trim().split('\n').pop()!), { loaded: false });
  });
});
