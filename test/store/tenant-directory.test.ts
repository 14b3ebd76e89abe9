import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryEventSink } from '../../src/call/call-events.js';
import { silentLogger } from '../../src/log.js';
import { syncBadEntriesTotal } from '../../src/metrics.js';
import { ChangeStream } from '../../src/store/change-stream.js';
import { TENANT_CHANGES_KEY, TENANT_VERSION_KEY, tenantKeys } from '../../src/store/keys.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { runScript } from '../../src/store/scripts.js';
import { SyncRegistry } from '../../src/store/sync-registry.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { AriHarness } from '../pbx/asterisk/ari-harness.js';
import type { PbxHarness, PlacedCall } from '../pbx/contract/call-handling-contract.js';
import { EslOutboundHarness } from '../pbx/freeswitch/esl-harness.js';
import { eventually, memoryLogger } from '../support/memory-logger.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const store = { streamMaxLen: 1000, snapshotEvery: 50 };
const badEntries = async () => (await syncBadEntriesTotal.get()).values[0]?.value ?? 0;

/** The connections the server holds now. */
const connections = async (client: Redis) =>
  String(await client.client('LIST'))
    .split('\n')
    .filter((l) => l.trim() !== '').length;

/** Appends a raw entry to a tenant's change stream, chained like the scripts do (a poisoned write). */
async function appendRaw(client: Redis, tenant: string, fields: string[]): Promise<string> {
  const k = tenantKeys(tenant);
  const prev = (await client.get(k.version)) ?? '0-0';
  const id = (await client.xadd(k.changes, '*', ...fields, 'p', prev))!;
  await client.set(k.version, id);
  return id;
}

describe.skipIf(skipWithoutRedis)('every node knows every tenant', () => {
  let redis: TestRedis;
  /** The node tenants are created through (an API node). */
  let apiNode: Redis;
  /** The call node's own connection. */
  let callNode: Redis;
  let registry: SyncRegistry;
  let tenants: TenantRepository;
  let rules: RuleRepository;
  const log = memoryLogger();

  beforeAll(async () => {
    redis = await startRedis();
    apiNode = redis.client();
    callNode = redis.client();
    tenants = new TenantRepository(apiNode, store);
    rules = new RuleRepository(apiNode, store);
    // One read waits up to 30 s: what arrives sooner came because the read was told (new entries,
    // or CLIENT UNBLOCK when a tenant was added or reloaded), not because it timed out.
    registry = new SyncRegistry({ client: callNode, log: log.logger, store, blockMs: 30_000 });
    await registry.start();
  });
  afterAll(async () => {
    await registry?.stop();
    await redis?.stop();
  });

  for (const [name, makeHarness] of [
    ['Asterisk ARI', () => new AriHarness('undici')],
    ['FreeSWITCH ESL', () => new EslOutboundHarness()],
  ] as Array<[string, () => PbxHarness]>) {
    it(`${name}: a tenant created through another node is decided by its own rules from its first call`, async () => {
      // Created through the API node; the call goes in once the call node has the announcement (a
      // call that beats it by a millisecond gets the failure policy, by design: SyncRegistry). The
      // announcement is waited for without asking the registry for a decider, which would load the
      // tenant by the other way, the probe.
      const created = async (tenant: string, params?: Parameters<TenantRepository['create']>[1]) => {
        await tenants.create(tenant, params);
        assert.ok(await eventually(() => registry.get(tenant) !== undefined), `${tenant} announced`);
      };
      const harness = makeHarness();
      await harness.start({ source: registry, events: new MemoryEventSink(), logger: silentLogger });
      try {
        // No rule at all: the tenant's default (allow) decides, not the failure policy (fail-closed).
        for (let i = 0; i < 10; i++) {
          const t = redis.tenant('fresh');
          await created(t);
          const r = await harness.placeCall({
            tenant: t,
            direction: 'outbound',
            called: '19005550100',
            calling: '201',
          });
          assert.equal(r.end, 'continue', `call ${i}: allowed by the empty tenant, not failed closed`);
          assert.equal(r.variables.CALLGUARD_RESULT, 'allow');
        }
        // Its params decide too: default block with its own cause, also inbound (which would fail open).
        const strict = redis.tenant('fresh');
        await created(strict, { params: { defaultAction: 'block', hangupCause: 17 } });
        const inbound: PlacedCall = {
          tenant: strict,
          direction: 'inbound',
          called: '201',
          calling: '19005550100',
        };
        const blocked = await harness.placeCall(inbound);
        assert.equal(blocked.end, 'hangup');
        assert.equal(blocked.cause, 17, "the tenant's own hang-up cause");
        // A rule written right after the creation reaches the call node and decides the next call.
        const ruled = redis.tenant('fresh');
        await created(ruled);
        const { rule } = await rules.create(ruled, {
          called: '19005550100',
          direction: 'outbound',
          action: 'block',
        });
        const synced = () => registry.get(ruled)?.engine()?.rules().next().value?.id === rule.id;
        assert.ok(await eventually(synced), 'the rule reached the call node');
        const r = await harness.placeCall({ tenant: ruled, direction: 'outbound', called: '19005550100' });
        assert.equal(r.end, 'hangup');
        assert.equal(r.variables.CALLGUARD_RULE, String(rule.id));
      } finally {
        await harness.stop();
      }
    });
  }

  it('a deleted tenant is dropped by every node and its calls get the failure policy', async () => {
    const t = redis.tenant('gone');
    await tenants.create(t, { params: { defaultAction: 'allow' } });
    assert.ok(await eventually(() => registry.deciderFor(t) !== undefined), 'known after creation');
    assert.equal(await tenants.delete(t), true);
    assert.ok(await eventually(() => registry.get(t) === undefined), 'dropped after deletion');
    assert.equal(registry.deciderFor(t), undefined, 'no decider: the failure policy');
    assert.equal(await apiNode.exists(tenantKeys(t).tenant, tenantKeys(t).changes), 0, 'its keys are gone');
    await tenants.create(t, { params: { defaultAction: 'block' } });
    assert.ok(
      await eventually(
        () =>
          registry.deciderFor(t)?.decide({ called: '1', calling: '2', direction: 'inbound', at: 0 })
            .action === 'block',
      ),
      'created again: known again, with the new params',
    );
  });

  it('a poisoned change entry is skipped, counted, logged once with its id, and the tenant reloads', async () => {
    const t = redis.tenant('poison');
    await tenants.create(t);
    await rules.create(t, { called: '19005550100', direction: 'outbound', action: 'block' });
    const sync = await (async () => {
      assert.ok(await eventually(() => registry.get(t)?.decider() !== undefined));
      return registry.get(t)!;
    })();
    assert.ok(await sync.waitFor(await new ChangeStream(apiNode).version(t)));
    const countBefore = await badEntries();
    const bad = await appendRaw(apiNode, t, ['op', 'u', 'id', 'not-a-number', 'r', 'garbage']);
    const { rule, version } = await rules.create(t, {
      called: '19005550101',
      direction: 'outbound',
      action: 'block',
    });
    assert.ok(await sync.waitFor(version), 'the sync went on past the bad entry');
    const d = sync
      .decider()!
      .decide({ called: '19005550101', calling: '', direction: 'outbound', at: Date.now() });
    assert.equal(d.rule?.id, rule.id);
    assert.equal(
      sync.decider()!.decide({ called: '19005550100', calling: '', direction: 'outbound', at: Date.now() })
        .action,
      'block',
      'the rules from before are still there',
    );
    assert.equal((await badEntries()) - countBefore, 1);
    const logged = log.records.filter((r) => r.entry === bad);
    assert.equal(logged.length, 1, 'logged once, with its id');
    assert.ok(sync.status().reloads >= 1, 'reloaded');

    // A bad entry on the tenants stream: the node reads the set of tenants again and goes on.
    const prev = (await apiNode.get(TENANT_VERSION_KEY)) ?? '0-0';
    const id = (await apiNode.xadd(TENANT_CHANGES_KEY, '*', 'op', 'zz', 'tenant', 'x', 'p', prev))!;
    await apiNode.set(TENANT_VERSION_KEY, id);
    const later = redis.tenant('poison');
    await tenants.create(later);
    assert.ok(
      await eventually(() => registry.deciderFor(later) !== undefined),
      'a later tenant is still learnt',
    );
    assert.equal((await badEntries()) - countBefore, 2);
  });

  it('a params value with a field this version does not know keeps it, and resets nothing to defaults', async () => {
    const t = redis.tenant('skew');
    await tenants.create(t, {
      params: { hangupCause: 17, blockWithoutType: 'continue', defaultAction: 'allow' },
    });
    assert.ok(await eventually(() => registry.get(t)?.decider() !== undefined));
    const sync = registry.get(t)!;
    // A newer version writes: a field unknown here, and a value of a known field this version cannot read.
    const json = JSON.stringify({
      defaultAction: 'block',
      hangupCause: 17,
      blockWithoutType: 'announce',
      recordingPolicy: { keepDays: 30 },
    });
    const k = tenantKeys(t);
    const version = (await runScript(
      apiNode,
      'set-field-3',
      [k.tenant, k.changes, k.version],
      ['params', json, store.streamMaxLen, 'op', 'pa', 'params', json],
    )) as string;
    assert.ok(await sync.waitFor(version));
    const params = sync.params()!;
    assert.equal(params.defaultAction, 'block', 'the fields it can read apply');
    assert.equal(params.hangupCause, 17, 'not reset to the default 21');
    assert.equal(params.blockWithoutType, 'continue', 'a value it cannot read keeps what the node had');
    assert.equal(registry.fallbackHandling(t).hangupCause, 17);
    // An older node writing params back keeps the newer field.
    await tenants.setParams(t, { hangupCause: 18 });
    const stored = JSON.parse((await apiNode.hget(k.tenant, 'params'))!);
    assert.deepEqual(stored.recordingPolicy, { keepDays: 30 });
    assert.equal(stored.hangupCause, 18);
  });

  it('1,000 tenants on one node hold one blocking connection, and each follows its changes', async () => {
    const node = redis.client();
    const ids = Array.from({ length: 1000 }, () => redis.tenant('many'));
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(ids.slice(i, i + 100).map((t) => tenants.create(t, { params: { hangupCause: 19 } })));
    }
    await node.ping();
    const before = await connections(apiNode);
    const many = new SyncRegistry({ client: node, log: silentLogger, store, blockMs: 30_000 });
    try {
      await many.start(undefined, 120_000);
      for (const t of ids) assert.ok(many.get(t)?.decider(), `${t} loaded`);
      assert.equal((await connections(apiNode)) - before, 1, 'one more connection: the blocking read');
      assert.equal(many.connectionCount(), 1);
      for (const t of [ids[0]!, ids[499]!, ids[999]!]) {
        const { version } = await rules.create(t, {
          called: '19005550100',
          direction: 'outbound',
          action: 'block',
        });
        assert.ok(await many.get(t)!.waitFor(version), `${t} follows its changes`);
      }
      assert.equal((await connections(apiNode)) - before, 1);
    } finally {
      await many.stop();
      node.disconnect();
    }
  });
});

describe.skipIf(skipWithoutRedis)('the shared sync connection across a Redis restart', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startRedis({ private: true, appendfsync: 'always' });
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('keeps deciding while Redis is away, then learns new tenants and changes again on the same one connection', async () => {
    const api = redis.client();
    const node = redis.client();
    const tenants = new TenantRepository(api, store);
    const rules = new RuleRepository(api, store);
    const registry = new SyncRegistry({ client: node, log: silentLogger, store, blockMs: 300 });
    try {
      await registry.start();
      const a = redis.tenant('restart');
      await tenants.create(a);
      await rules.create(a, { called: '19005550100', direction: 'outbound', action: 'block' });
      const call = (called: string) => ({
        called,
        calling: '',
        direction: 'outbound' as const,
        at: Date.now(),
      });
      assert.ok(
        await eventually(() => registry.deciderFor(a)?.decide(call('19005550100')).action === 'block'),
      );

      await redis.kill9();
      assert.ok(await eventually(() => registry.get(a)!.status().connected === false), 'the node notices');
      assert.equal(
        registry.deciderFor(a)!.decide(call('19005550100')).action,
        'block',
        'the last rules decide',
      );
      await redis.restart();

      const b = redis.tenant('restart');
      await tenants.create(b, { params: { defaultAction: 'block' } });
      assert.ok(
        await eventually(() => registry.deciderFor(b)?.decide(call('1')).action === 'block', 10_000),
        'a tenant created after the restart is learnt',
      );
      const { version } = await rules.create(a, {
        called: '19005550101',
        direction: 'outbound',
        action: 'block',
      });
      assert.ok(
        await registry.get(a)!.waitFor(version),
        'changes of a tenant from before the restart arrive',
      );
      const list = String(await api.client('LIST'));
      assert.equal(list.split('\n').filter((l) => l.includes('name=callguard-sync')).length, 1);
    } finally {
      await registry.stop();
    }
  });
});
