import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  checkServer,
  evictionAdvice,
  persistenceAdvice,
  readServerSettings,
  type ServerCheck,
  versionAdvice,
} from '../../src/store/server-check.js';
import { memoryLogger } from '../support/memory-logger.js';
import {
  skipWithoutLocalRedis,
  skipWithoutRedis,
  startRedis,
  type TestRedis,
} from '../support/redis-server.js';

const settings = (over: Partial<ServerCheck>): ServerCheck => ({
  appendonly: true,
  appendfsync: 'everysec',
  save: '',
  maxmemoryPolicy: 'noeviction',
  maxmemory: '0',
  version: '7.0.15',
  mode: 'standalone',
  smallLayout: [],
  ...over,
});

describe('what a Redis server risks, as serve logs it and doctor prints it', () => {
  it('says nothing of a server kept as callguard needs', () => {
    const ok = settings({});
    assert.deepEqual(
      [persistenceAdvice(ok), evictionAdvice(ok), versionAdvice(ok)],
      [undefined, undefined, undefined],
    );
  });

  it('names a Redis older than 7.0, and nothing of one that would not say', () => {
    assert.match(
      versionAdvice(settings({ version: '6.2.14' }))?.message ?? '',
      /Redis 6\.2\.14 is older than 7\.0/,
    );
    for (const version of ['7.0.0', '7.4.2', '8.0.1', undefined])
      assert.equal(versionAdvice(settings({ version })), undefined, String(version));
  });

  it('tells no persistence from an AOF that is off or not fsynced', () => {
    assert.match(
      persistenceAdvice(settings({ appendonly: false, save: '' }))?.message ?? '',
      /no persistence at all/,
    );
    assert.match(
      persistenceAdvice(settings({ appendonly: false, save: '3600 1' }))?.message ?? '',
      /last RDB save/,
    );
    assert.match(persistenceAdvice(settings({ appendfsync: 'no' }))?.message ?? '', /not fsynced/);
  });

  it('warns of any eviction policy, with or without a memory limit', () => {
    assert.match(
      evictionAdvice(settings({ maxmemoryPolicy: 'volatile-lru', maxmemory: '1073741824' }))?.message ?? '',
      /volatile-lru, maxmemory 1073741824 bytes/,
    );
    assert.match(
      evictionAdvice(settings({ maxmemoryPolicy: 'allkeys-lru' }))?.message ?? '',
      /no limit set yet/,
    );
  });
});

describe.skipIf(skipWithoutRedis)('reading a real redis-server', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ private: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('reads its version and settings', async () => {
    const read = await readServerSettings(redis.client());
    assert.match(read.version ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(versionAdvice(read), undefined, `the tests' redis-server is ${read.version}`);
    assert.equal(read.maxmemoryPolicy, 'noeviction');
    assert.equal(read.appendonly, true);
  });
});

describe.skipIf(skipWithoutLocalRedis)('a Redis that refuses CONFIG (as managed ones do)', () => {
  it('says at start, at info level, what it cannot tell, and warns of nothing it does not know', async () => {
    const redis = await startRedis({ private: true, extraArgs: ['--rename-command', 'CONFIG', '""'] });
    try {
      const logs = memoryLogger();
      await checkServer(redis.client(), logs.logger);
      assert.deepEqual(
        logs.records.filter((r) => r.level >= 40).map((r) => r.msg),
        [],
      );
      const told = logs.records.filter((r) => r.level === 30).map((r) => r.msg);
      assert.equal(told.length, 2, JSON.stringify(told));
      assert.match(told[0] ?? '', /cannot tell whether rule writes survive a restart/);
      assert.match(told[1] ?? '', /cannot tell whether it evicts keys when full/);
    } finally {
      await redis.stop();
    }
  });
});
