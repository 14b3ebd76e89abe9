import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { configEntries, renderConfigDoc } from '../../src/config-doc.js';

const root = join(import.meta.dirname, '../..');

describe('configuration', () => {
  it('runs with no settings at all, on the documented defaults', () => {
    const config = loadConfig({});
    assert.equal(config.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.equal(config.CALLGUARD_HTTP_HOST, '127.0.0.1');
    assert.equal(config.CALLGUARD_HTTP_PORT, 7780);
    assert.equal(config.CALLGUARD_SYSTEM_KEY, undefined);
  });

  it('stops on a bad value with one line naming the variable and what is accepted', () => {
    assert.throws(
      () => loadConfig({ CALLGUARD_HTTP_PORT: '70000', REDIS_URL: 'http://x' }),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        const lines = e.message.split('\n');
        assert.equal(lines.length, 2);
        assert.match(
          lines.find((l) => l.includes('REDIS_URL')) ?? '',
          /invalid setting REDIS_URL="http:\/\/x": .*redis:\/\//,
        );
        assert.match(
          lines.find((l) => l.includes('CALLGUARD_HTTP_PORT')) ?? '',
          /invalid setting CALLGUARD_HTTP_PORT="70000"/,
        );
        return true;
      },
    );
  });

  it('documents every variable, and docs/CONFIGURATION.md is current (npm run docs:config)', () => {
    for (const entry of configEntries())
      assert.ok(entry.description.length > 10, `${entry.name} has no description`);
    assert.equal(readFileSync(join(root, 'docs/CONFIGURATION.md'), 'utf8'), renderConfigDoc());
  });
});
