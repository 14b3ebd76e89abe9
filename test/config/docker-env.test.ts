import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../src/config.js';

const root = join(import.meta.dirname, '../..');
const known = new Set(Object.keys(configSchema.shape));
/** Set by the runtime, not read by callguard's config. */
const PLATFORM = new Set(['NODE_ENV']);

function composeVariables(text: string): string[] {
  const compose = parse(text, { merge: true }) as { services: Record<string, { environment?: object }> };
  return Object.values(compose.services).flatMap((s) =>
    Array.isArray(s.environment)
      ? s.environment.map((e: string) => e.split('=')[0]!)
      : Object.keys(s.environment ?? {}),
  );
}

function dockerfileVariables(text: string): string[] {
  const env = [...text.matchAll(/^ENV ([\s\S]*?)(?=^\S)/gm)].map((m) => m[1]).join(' ');
  return [...env.matchAll(/([A-Z][A-Z0-9_]*)=/g)].map((m) => m[1]);
}

describe('docker/', () => {
  it('compose sets only variables the configuration schema knows', () => {
    const vars = composeVariables(readFileSync(join(root, 'docker/compose.yaml'), 'utf8'));
    assert.ok(vars.length >= 10);
    for (const v of vars) assert.ok(known.has(v), `compose sets ${v}, which callguard does not read`);
  });

  it('the Dockerfile sets only variables the configuration schema knows', () => {
    const vars = dockerfileVariables(readFileSync(join(root, 'docker/Dockerfile'), 'utf8'));
    assert.ok(vars.includes('CALLGUARD_HTTP_HOST'));
    for (const v of vars)
      assert.ok(known.has(v) || PLATFORM.has(v), `Dockerfile sets ${v}, which callguard does not read`);
  });
});
