import assert from 'node:assert/strict';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { silentLogger } from '../../../src/log.js';
import { RuleRepository } from '../../../src/store/rule-repository.js';
import { SyncRegistry } from '../../../src/store/sync-registry.js';
import { TenantRepository } from '../../../src/store/tenant-repository.js';
import { startRedis } from '../../support/redis-server.js';
import type { HarnessStartOptions, PbxHarness } from './call-handling-contract.js';

const store = { streamMaxLen: 1000, snapshotEvery: 50 };

/**
 * redis-down-keeps-serving-last-snapshot: the adapter screens with the store's sync (a real, private
 * redis-server); once Redis is killed, calls of a loaded tenant are still decided from memory and a
 * tenant that never loaded gets the failure policy. Nothing waits on Redis.
 */
export async function redisDownKeepsServingLastSnapshot(
  makeHarness: () => PbxHarness,
  logger: HarnessStartOptions['logger'],
  errorsLogged: () => unknown[],
): Promise<void> {
  const redis = await startRedis({ private: true });
  const client = redis.client();
  const registry = new SyncRegistry({ client, log: silentLogger, store, blockMs: 200 });
  const harness = makeHarness();
  try {
    const tenant = redis.tenant('pbx');
    await new TenantRepository(client, store).create(tenant);
    const { rule } = await new RuleRepository(client, store).create(tenant, {
      called: '19005550100',
      direction: 'outbound',
      action: 'block',
    });
    await registry.start([tenant], 10_000);
    await harness.start({ source: registry, events: new MemoryEventSink(), logger });

    const before = await harness.placeCall({
      tenant,
      direction: 'outbound',
      called: '19005550100',
      calling: '201',
    });
    assert.equal(before.end, 'hangup');
    assert.equal(before.variables.CALLGUARD_RULE, String(rule.id));

    await redis.kill9();
    const during = await harness.placeCall({
      tenant,
      direction: 'outbound',
      called: '19005550100',
      calling: '201',
    });
    assert.equal(during.end, 'hangup', 'the last loaded rules still decide');
    assert.equal(during.cause, 21);
    assert.equal(during.variables.CALLGUARD_RULE, String(rule.id));
    const allowed = await harness.placeCall({
      tenant,
      direction: 'outbound',
      called: '19005550101',
      calling: '201',
    });
    assert.equal(allowed.end, 'continue');

    const stranger = redis.tenant('never-loaded');
    const out = await harness.placeCall({ tenant: stranger, direction: 'outbound', called: '19005550101' });
    assert.equal(out.end, 'hangup', 'outbound fails closed');
    const inb = await harness.placeCall({
      tenant: stranger,
      direction: 'inbound',
      called: '19005550101',
      calling: '201',
    });
    assert.equal(inb.end, 'continue', 'inbound fails open');
    assert.deepEqual(errorsLogged(), []);
  } finally {
    await harness.stop();
    await redis.stop();
    // bounded: a TenantSync started while Redis was dead (the never-loaded tenant) does not finish
    // its stop() (reported to the store's owner); this scenario is about the call path, not that
    // A live (not unref'd) timer: with every socket released the loop must not empty mid-race.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([registry.stop(), new Promise((r) => (timer = setTimeout(r, 2_000)))]);
    clearTimeout(timer);
  }
}
