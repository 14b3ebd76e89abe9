import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';

const BIN = join(import.meta.dirname, '../../bin/callguard.js');
let dir: string;

function callguard(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: dir,
    input,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cg-cli-'));
  writeFileSync(
    join(dir, 'rules.csv'),
    [
      'id,called,calling,direction,action,group,type,remarks',
      '1,_3712!,,both,block,,,Latvian mobiles',
      '2,37120000000,,both,allow,,,hole in the block',
      '3,_14045266XXX,,outbound,block,dnc,wrap,campaign DNC',
      '4,,anonymous,inbound,block,,,',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'bindings.csv'), 'task,group\ntask-7,dnc\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('callguard check (offline)', () => {
  it('prints the decision and why', () => {
    const r = callguard([
      'check',
      '--rules',
      'rules.csv',
      '--called',
      '+371 2123 4567',
      '--calling',
      '14045550123',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^block \(rule 1\)/);
    assert.match(r.stdout, /why: rule 1 \(called _3712!\) blocks/);
  });

  it('honours task bindings: a group rule applies only to calls of a bound task', () => {
    const args = [
      'check',
      '--rules',
      'rules.csv',
      '--bindings',
      'bindings.csv',
      '--called',
      '14045266001',
      '--direction',
      'outbound',
      '--calling',
      '1',
      '--json',
    ];
    const bound = JSON.parse(callguard([...args, '--task', 'task-7']).stdout);
    assert.equal(bound.action, 'block');
    assert.equal(bound.rule.id, 3);
    const unbound = JSON.parse(callguard([...args, '--task', 'task-8']).stdout);
    assert.equal(unbound.action, 'allow');
    assert.equal(unbound.rule, null);
  });

  it('answers a batch in input order, one row per query', () => {
    const queries =
      'called,calling,direction,task\n37120000000,1,,\n14045266001,1,outbound,task-7\n1,,inbound,\n';
    const r = callguard(
      ['check', '--rules', 'rules.csv', '--bindings', 'bindings.csv', '--batch', '-'],
      queries,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [
      'called,calling,direction,task,action,rule_id,outcome',
      '37120000000,1,inbound,,allow,2,',
      '14045266001,1,outbound,task-7,block,3,wrap',
      '1,,inbound,,block,4,',
    ]);
  });

  it('reports bad rows with line and reason, still uses the good ones, and says so in the exit code', () => {
    writeFileSync(
      join(dir, 'mixed.csv'),
      'called,action\n_3712!,block\n14XX,block\n_1N!,block\n5551234,maybe\n',
    );
    const r = callguard(['check', '--rules', 'mixed.csv', '--called', '37121234567', '--calling', '1']);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /^block/);
    assert.match(r.stderr, /mixed\.csv:3: called: .*does not start with _/);
    assert.match(r.stderr, /mixed\.csv:4: called: .*N is not supported/);
    assert.match(r.stderr, /mixed\.csv:5: action: must be one of block, allow/);
  });

  it('dumps the compiled index: what went where', () => {
    const r = callguard(['check', '--rules', 'rules.csv', '--dump']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^rules: 4 \(1 exact called, 0 exact calling, 3 general\)/);
    assert.match(r.stdout, /called prefixes: 2 prefixes of length 4,8/);
    assert.match(r.stdout, /anonymous-caller rules: 1/);
    assert.match(r.stdout, /\n {2}3\t_14045266XXX\t-\toutbound\tblock\tgroupId=dnc typeId=wrap/);
  });

  it('refuses a bad header and bad options with a usage error', () => {
    writeFileSync(join(dir, 'bad.csv'), 'number,action\n1,block\n');
    const header = callguard(['check', '--rules', 'bad.csv', '--called', '1']);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /unknown column\(s\) "number"; accepted columns: id,called,calling/);
    const direction = callguard([
      'check',
      '--rules',
      'rules.csv',
      '--called',
      '1',
      '--direction',
      'sideways',
    ]);
    assert.equal(direction.code, 2);
    assert.match(direction.stderr, /--direction/);
    const missing = callguard(['check', '--rules', 'nope.csv', '--called', '1']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.csv/);
  });
});
