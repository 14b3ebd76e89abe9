import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import semver from 'semver';
import { describe, it } from 'vitest';
import { nodeVersionProblem, SUPPORTED_NODE } from '../../src/node-support.js';

const BIN = join(import.meta.dirname, '../../bin/callguard.js');

/** Runs the CLI as `npx callguard` does, with process.versions.node reading `version`. */
function cliOn(version: string, args: string[]) {
  const fake = `Object.defineProperty(process.versions, 'node', { value: ${JSON.stringify(version)} })`;
  return spawnSync(process.execPath, ['--import', `data:text/javascript,${fake}`, BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('the Node.js releases callguard runs on', () => {
  it('accepts exactly the releases package.json engines names (checked against semver)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    assert.equal(pkg.engines.node, SUPPORTED_NODE);
    fc.assert(
      fc.property(fc.nat(30), fc.nat(30), fc.nat(9), (major, minor, patch) => {
        const version = `${major}.${minor}.${patch}`;
        assert.equal(
          nodeVersionProblem(version) === undefined,
          semver.satisfies(version, SUPPORTED_NODE),
          version,
        );
      }),
      { numRuns: 2000 },
    );
    for (const ok of ['20.19.0', '20.20.2', '22.12.0', '24.1.0'])
      assert.equal(nodeVersionProblem(ok), undefined, ok);
    for (const old of ['18.19.1', '20.18.3', '21.7.3', '22.11.0']) assert.ok(nodeVersionProblem(old), old);
  });

  it('on an older release the CLI says which release it needs in one line and exits 1', () => {
    const run = cliOn('20.18.3', ['--help']);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.stdout, '');
    assert.equal(
      run.stderr,
      'callguard needs Node.js 20.19 or later in the 20 line, or 22.12 or later; this is 20.18.3. ' +
        'Its dependencies load ES modules with require(), which older releases refuse (ERR_REQUIRE_ESM).\n',
    );
  });

  it('on a supported release the CLI runs', () => {
    const run = cliOn('20.19.0', ['--help']);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /Usage: callguard/);
  });
});
