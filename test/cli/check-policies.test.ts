import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/callguard.js');
let dir: string;

function callguard(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cg-cli-policies-'));
  writeFileSync(
    join(dir, 'rules.csv'),
    'id,called,calling,direction,action,group,type,remarks\n1,_1404!,,outbound,block,,,\n',
  );
  writeFileSync(
    join(dir, 'policies.json'),
    JSON.stringify({
      policies: [
        {
          id: 'us',
          name: 'US hours',
          window: { hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '21:00' }] },
        },
      ],
      tasks: { camp: ['us'] },
    }),
  );
  writeFileSync(
    join(dir, 'bad.json'),
    JSON.stringify({ policies: [{ id: 'x', name: 'x' }], tasks: { camp: ['y'] } }),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('callguard check --policies (offline)', () => {
  const base = [
    'check',
    '--rules',
    'rules.csv',
    '--policies',
    'policies.json',
    '--direction',
    'outbound',
    '--task',
    'camp',
  ];

  it('names the policy and the local time of a call outside the window', () => {
    const r = callguard([...base, '--called', '13125550100', '--at', '2026-12-05T03:30:00Z']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^block\n/);
    assert.match(r.stdout, /policy: us \(Fri 21:30 America\/Chicago is outside Mon-Fri 08:00-21:00\)/);
    const inside = callguard([...base, '--called', '13125550100', '--at', '2026-12-04T20:05:00Z']);
    assert.match(inside.stdout, /^allow/);
  });

  it('a blocking rule wins over the policy', () => {
    const r = callguard([...base, '--called', '14045550100', '--at', '2026-12-05T03:30:00Z']);
    assert.match(r.stdout, /^block \(rule 1\)/);
    assert.doesNotMatch(r.stdout, /policy:/);
  });

  it('refuses a policies file with what is wrong', () => {
    const r = callguard(['check', '--rules', 'rules.csv', '--policies', 'bad.json', '--called', '1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /a policy needs a window or at least one cap/);
    assert.match(r.stderr, /tasks\.camp: policy "y" is not in policies/);
  });
});
