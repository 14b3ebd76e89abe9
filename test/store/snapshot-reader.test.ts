import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { encodeSnapshot } from '../../src/engine/snapshot-codec.js';
import { tenantKeys } from '../../src/store/keys.js';
import { createRedisClient, type RedisClient } from '../../src/store/redis-client.js';
import { adoptSnapshot, packedStringsOf } from '../../src/store/snapshot-handover.js';
import { READ_IN_THREAD_FROM } from '../../src/store/snapshot-reader.js';
import { SnapshotStore } from '../../src/store/snapshot-store.js';
import { outboundCall } from '../support/calls.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const T = 1_800_000_000_000;
const number = (i: number) => String(14_040_000_000 + i * 7);

/** Enough exact rules for a snapshot past the size that is checked on a worker thread. */
function bigEngine(): DecisionEngine {
  const rules: Rule[] = [];
  for (let i = 1; i <= 250_000; i++) {
    rules.push({
      id: i,
      called: number(i),
      direction: 'both',
      action: i % 3 ? 'block' : 'allow',
      updatedAt: T,
    });
  }
  rules.push({ id: 250_001, called: '_3712!', direction: 'both', action: 'block', updatedAt: T });
  // Scope values: strings the reader thread hands over packed, outside the header.
  rules.push({
    id: 250_002,
    called: '_3713!',
    direction: 'both',
    action: 'block',
    user: 'zoë',
    updatedAt: T,
  });
  rules.push({
    id: 250_003,
    called: '_3714!',
    direction: 'both',
    action: 'block',
    sbc: 'sbc-ü',
    updatedAt: T,
  });
  return DecisionEngine.fromRules(rules, { defaultAction: 'allow' });
}

describe.skipIf(skipWithoutRedis)(
  'reading a large cached snapshot (read and checked on a worker thread)',
  () => {
    let redis: TestRedis;
    let engine: DecisionEngine;
    let bytes: Uint8Array;
    let client: RedisClient;
    beforeAll(async () => {
      redis = await startRedis();
      // Made by createRedisClient: the store knows where a reader thread connects.
      client = createRedisClient({ url: redis.url });
      engine = bigEngine();
      bytes = encodeSnapshot(engine, { version: '1800000000000-5' });
      assert.ok(bytes.length > READ_IN_THREAD_FROM, `${bytes.length} bytes: too small to test the thread`);
    });
    afterAll(async () => {
      client?.disconnect();
      await redis?.stop();
    });

    it('gives a checked header and bytes that adopt to an engine deciding exactly as the original', async () => {
      const t = redis.tenant('snapv');
      // Small chunks: the thread joins many parts, the last one short.
      const store = new SnapshotStore(client, { chunkBytes: 1_000_003 });
      assert.equal(await store.write(t, bytes, '1800000000000-5'), true);
      const read = await store.read(t);
      assert.ok(read);
      assert.equal(read.bytes.length, bytes.length);
      assert.ok(read.bytes.equals(Buffer.from(bytes)));
      assert.ok(read.handover && 'header' in read.handover, 'the thread parsed and checked the header');
      const { decoded } = await adoptSnapshot(read);
      assert.equal(decoded.version, '1800000000000-5');
      const calls = [number(1), number(3), number(249_999), '37121234567', '15550001'].map((n) =>
        outboundCall(n),
      );
      calls.push(
        { ...outboundCall('37131234567'), user: 'zoë' },
        { ...outboundCall('37131234567'), user: 'zoe' },
      );
      calls.push({ ...outboundCall('37141234567'), sbc: 'sbc-ü' }, outboundCall('37141234567'));
      for (const call of calls) {
        assert.deepEqual(decoded.engine.decide(call), engine.decide(call), JSON.stringify(call));
      }
      assert.equal(decoded.engine.decide(calls[5]!).rule?.id, 250_002);
      assert.equal(decoded.engine.decide(calls[6]!).action, 'allow');

      // The same tenant read again: the thread finds every string among those of the index in use.
      const held = decoded.engine.base.parts.strings;
      const again = await store.read(t, undefined, packedStringsOf(held));
      assert.ok(again);
      const adopted = await adoptSnapshot(again, held);
      assert.equal(adopted.reused, held.length);
      for (const call of calls) assert.deepEqual(adopted.decoded.engine.decide(call), engine.decide(call));
    });

    it('reads the same bytes on the calling thread with a client it cannot reconnect elsewhere', async () => {
      const t = redis.tenant('snaphere');
      const plain = redis.client();
      await new SnapshotStore(client).write(t, bytes, '1800000000000-5');
      const read = await new SnapshotStore(plain).read(t);
      assert.ok(read);
      assert.ok(read.bytes.equals(Buffer.from(bytes)));
      assert.equal(read.handover, undefined);
      assert.equal((await adoptSnapshot(read)).decoded.version, '1800000000000-5');
    });

    it('reads nothing when the stored snapshot is older than the version asked for', async () => {
      const t = redis.tenant('snapold');
      const store = new SnapshotStore(client);
      await store.write(t, bytes, '1800000000000-5');
      assert.equal(await store.read(t, '1800000000001-0'), undefined);
      assert.equal((await store.read(t, '1800000000000-5'))?.pointer.version, '1800000000000-5');
    });

    it('still refuses a snapshot corrupted in Redis, with the corruption error', async () => {
      const t = redis.tenant('snapbad');
      const store = new SnapshotStore(client, { chunkBytes: 1_000_003 });
      await store.write(t, bytes, '1800000000000-5');
      const pointer = (await store.pointer(t))!;
      const key = tenantKeys(t).snapshotChunk(pointer.gen, 2);
      const chunk = (await client.getBuffer(key))!;
      chunk[500] ^= 0xff;
      await client.set(key, chunk);
      const read = await store.read(t);
      assert.ok(read);
      await assert.rejects(
        adoptSnapshot(read),
        (e: unknown) =>
          e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT' && /checksum/.test(e.message),
      );
    });
  },
);
