import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { eventLine } from '../../src/cli/events-command.js';
import { recentEvents } from '../../src/notify/event-stream.js';
import type { NotifyEvent } from '../../src/notify/notify-event.js';
import { notifyKeys } from '../../src/store/keys.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { notifyStack } from './notify-stack.js';
import { eventually } from './webhook-receiver.js';

/** Runs `callguard events tail` as a user would, collecting its output lines. */
function tail(redisUrl: string, args: string[]) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'events', 'tail', ...args],
    {
      env: { ...process.env, REDIS_URL: redisUrl, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let stderr = '';
  let buf = '';
  child.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, lines, stderr: () => stderr, exited };
}

describe.skipIf(skipWithoutRedis)('event stream and `callguard events tail`', () => {
  let redis: TestRedis;
  let stack: Awaited<ReturnType<typeof notifyStack>>;
  beforeAll(async () => {
    redis = await startRedis();
    stack = await notifyStack(redis, { worker: false, notifier: { streamMaxLen: 100 } });
  });
  afterAll(async () => {
    await stack?.close();
    await redis?.stop();
  });

  it('keeps each tenant stream capped', async () => {
    const t = await stack.tenant(redis.tenant('cap'), {});
    for (let i = 0; i < 1000; i++) {
      stack.notifier.publish({
        type: 'export.finished',
        tenant: t,
        data: { jobId: `j${i}`, state: 'completed' },
      });
    }
    assert.equal(await stack.notifier.flush(), true);
    const len = await stack.client.xlen(notifyKeys(t).events);
    assert.ok(len >= 100 && len < 1000, `stream holds ${len} entries`);
    const last = await recentEvents(stack.client, t, 1);
    assert.equal((last[0]!.event.data as { jobId: string }).jobId, 'j999');
  });

  it('drops an event whose tenant id cannot name a key, and the others still flow', async () => {
    const t = await stack.tenant(redis.tenant('good'), {});
    const before = stack.notifier.dropped;
    stack.notifier.publish({
      type: 'import.finished',
      tenant: 'not a tenant!',
      data: { jobId: 'x', state: 'completed' },
    });
    stack.notifier.publish({ type: 'import.finished', tenant: t, data: { jobId: 'y', state: 'completed' } });
    assert.equal(await stack.notifier.flush(), true);
    assert.equal(stack.notifier.dropped, before + 1);
    assert.equal((await recentEvents(stack.client, t, 10)).length, 1);
  });

  it('shows events of one tenant live as JSON, and stops on Ctrl-C', async () => {
    const t = await stack.tenant(redis.tenant('tail'), {});
    const other = await stack.tenant(redis.tenant('other'), {});
    const run = tail(redis.url, ['--tenant', t, '--json']);
    try {
      await eventually('tail ready', () => run.stderr().includes('following events'), 1500);
      const id = stack.notifier.publish({
        type: 'import.finished',
        tenant: t,
        data: { jobId: 'job-1', state: 'completed' },
      });
      stack.notifier.publish({
        type: 'import.finished',
        tenant: other,
        data: { jobId: 'job-2', state: 'completed' },
      });
      stack.notifier.emit({
        type: 'call.wrapped_up',
        tenant: t,
        callId: 'c1',
        direction: 'outbound',
        number: '14045266123',
        called: '14045266123',
        calling: '3712000000',
        businessResult: 'DNC',
        ruleId: 7,
        at: new Date().toISOString(),
      });
      await eventually('two lines', () => run.lines.length >= 2);
      const got = run.lines.map((l) => JSON.parse(l) as NotifyEvent);
      assert.deepEqual(
        got.map((e) => [e.tenant, e.type]),
        [
          [t, 'import.finished'],
          [t, 'call.wrapped_up'],
        ],
      );
      assert.equal(got[0]!.id, id);
    } finally {
      run.child.kill('SIGINT');
    }
    assert.equal(await run.exited, 0);
  });

  it('follows every tenant without --tenant, one readable line per event', async () => {
    const a = await stack.tenant(redis.tenant('all-a'), {});
    const b = await stack.tenant(redis.tenant('all-b'), {});
    const run = tail(redis.url, []);
    try {
      await eventually('tail ready', () => run.stderr().includes('following events'), 1500);
      stack.notifier.publish({
        type: 'export.finished',
        tenant: a,
        data: { jobId: 'ja', state: 'completed' },
      });
      stack.notifier.publish({ type: 'export.finished', tenant: b, data: { jobId: 'jb', state: 'failed' } });
      await eventually('both tenants', () => run.lines.length >= 2);
      assert.ok(run.lines.some((l) => l.includes(`  ${a}  export.finished  jobId=ja state=completed  id=`)));
      assert.ok(run.lines.some((l) => l.includes(`  ${b}  export.finished  jobId=jb state=failed  id=`)));
    } finally {
      run.child.kill('SIGINT');
    }
    assert.equal(await run.exited, 0);
  });

  it('prints one readable line per event', () => {
    const line = eventLine({
      position: '1-0',
      event: {
        id: 'e1',
        type: 'agent.popup',
        tenant: 'acme',
        createdAt: '2026-11-22T06:00:00.000Z',
        data: {
          callId: 'c9',
          direction: 'outbound',
          number: '14045266123',
          called: '14045266123',
          calling: '1',
          task: 'task-1',
          ruleId: 3,
          at: '2026-11-22T06:00:00.000Z',
        },
      },
    });
    assert.equal(
      line,
      '2026-11-22T06:00:00.000Z  acme  agent.popup  number=14045266123 task=task-1 ruleId=3 callId=c9  id=e1',
    );
  });
});
