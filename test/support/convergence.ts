import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { BlocklistType } from '../../src/domain/blocklist-type.js';
import type { CallContext } from '../../src/domain/call-context.js';
import { silentLogger } from '../../src/log.js';
import { CatalogRepository } from '../../src/store/catalog-repository.js';
import { ChangeStream, compareVersions } from '../../src/store/change-stream.js';
import type { RedisClient } from '../../src/store/redis-client.js';
import { type RuleDraft, RuleRepository } from '../../src/store/rule-repository.js';
import { TenantRepository } from '../../src/store/tenant-repository.js';
import { TenantSync } from '../../src/store/tenant-sync.js';
import { decisionSummary, engineFromStore } from './store-reference.js';

const NOW = 1_800_000_000_000;
const AT = NOW + 1000;
const store = { streamMaxLen: 1000, snapshotEvery: 7 };
const CALLED = ['1555000', '1555001', '1555123', '_1555!', '_15550XX', '_1555.', '_1555123!'];
const CALLING = ['anonymous', '4411000', '_44!'];
const GROUPS = ['g1', 'g2'];
const TYPES: BlocklistType[] = [
  { id: 'wrap', name: 'Wrap', operation: 'auto_wrap_up', businessResult: 'DNC' },
  { id: 'pop', name: 'Pop', operation: 'pop_up', promptContent: 'Do not call', jumpAddress: 'https://x/y' },
];

const draftArb: fc.Arbitrary<RuleDraft> = fc
  .record({
    called: fc.option(fc.constantFrom(...CALLED), { nil: undefined }),
    calling: fc.option(fc.constantFrom(...CALLING), { nil: undefined }),
    direction: fc.constantFrom('inbound', 'outbound', 'both'),
    action: fc.constantFrom('block', 'allow'),
    groupId: fc.option(fc.constantFrom(...GROUPS), { nil: undefined }),
    typeId: fc.option(fc.constantFrom('wrap', 'pop', 'none'), { nil: undefined }),
    user: fc.option(fc.constant('alice'), { nil: undefined }),
    expiresAt: fc.option(fc.constantFrom(NOW - 3_600_000, NOW + 3_600_000), { nil: undefined }),
  })
  .map(
    (d) => (d.called === undefined && d.calling === undefined ? { ...d, called: '1555000' } : d) as RuleDraft,
  );

type Op =
  | { k: 'create'; draft: RuleDraft; mode: 'skip' | 'override' }
  | { k: 'update'; pick: number; action: 'block' | 'allow'; groupId?: string }
  | { k: 'delete'; pick: number }
  | { k: 'bind'; task: string; groups: string[] }
  | { k: 'type'; pick: number; remove: boolean }
  | { k: 'default'; action: 'block' | 'allow' }
  | { k: 'bulk'; drafts: RuleDraft[] }
  | { k: 'purge' }
  | { k: 'startB' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('create' as const),
      draft: draftArb,
      mode: fc.constantFrom('skip' as const, 'override' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('update' as const),
      pick: fc.nat(),
      action: fc.constantFrom('block' as const, 'allow' as const),
      groupId: fc.option(fc.constantFrom(...GROUPS), { nil: undefined }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('bind' as const),
      task: fc.constantFrom('t1', 't2'),
      groups: fc.subarray(GROUPS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('type' as const), pick: fc.nat(1), remove: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('default' as const),
      action: fc.constantFrom('block' as const, 'allow' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('bulk' as const), drafts: fc.array(draftArb, { maxLength: 8 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ k: 'purge' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'startB' as const }) },
);

function contexts(): CallContext[] {
  const out: CallContext[] = [];
  for (const called of ['1555000', '1555001', '1555123', '1555999', '15550', '15551234', '1666']) {
    for (const calling of ['anonymous', '4411000', '37100'])
      for (const direction of ['inbound', 'outbound'] as const)
        for (const task of [undefined, 't1', 't2'])
          out.push({
            called,
            calling,
            direction,
            task,
            user: called === '1555123' ? 'alice' : undefined,
            at: AT,
          });
  }
  return out;
}
const CONTEXTS = contexts();

const summary = decisionSummary;
const fromStore = engineFromStore;

/**
 * Runs a random history of writes against the store while two nodes sync, then checks both decide
 * every probe call exactly as an engine built fresh from the store. Exported so the cluster suite
 * runs the same property.
 */
export async function convergenceProperty(
  client: RedisClient,
  blocking: () => RedisClient,
  tenantOf: () => string,
  numRuns: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
      const tenant = tenantOf();
      const rules = new RuleRepository(client, store, () => NOW);
      const catalog = new CatalogRepository(client, store);
      const tenants = new TenantRepository(client, store, () => NOW);
      await tenants.create(tenant);
      const ids: number[] = [];
      const node = (build: boolean) =>
        new TenantSync({
          tenant,
          client,
          blocking: blocking(),
          log: silentLogger,
          store,
          buildSnapshots: build,
          blockMs: 300,
        }).start();
      const a = node(true);
      // Node A follows the whole history as deltas; B joins part-way (snapshot or store, then deltas).
      await a.ready;
      let b: TenantSync | undefined;
      let last = '0-0';
      const saw = (v: string) => {
        if (v && compareVersions(v, last) > 0) last = v;
      };
      try {
        for (const op of ops) {
          switch (op.k) {
            case 'create': {
              const r = await rules.create(tenant, op.draft, op.mode);
              saw(r.version);
              if (!ids.includes(r.rule.id)) ids.push(r.rule.id);
              break;
            }
            case 'update':
            case 'delete': {
              if (ids.length === 0) break;
              const id = ids[op.pick % ids.length]!;
              const current = await rules.get(tenant, id);
              if (!current) break;
              if (op.k === 'delete') {
                saw((await rules.delete(tenant, [id])).version);
              } else {
                const { updatedAt: _u, ...rest } = current;
                saw(
                  (
                    await rules.update(
                      tenant,
                      { ...rest, action: op.action, groupId: op.groupId },
                      'override',
                    )
                  ).version,
                );
              }
              break;
            }
            case 'bind':
              saw(await catalog.bind(tenant, op.task, op.groups));
              break;
            case 'type': {
              const type = TYPES[op.pick]!;
              if (op.remove) {
                const inUse = await catalog.deleteType(tenant, type.id).catch(() => false);
                if (!inUse) break;
              } else saw((await catalog.putType(tenant, type)).version);
              break;
            }
            case 'default':
              await tenants.setParams(tenant, { defaultAction: op.action });
              saw(await new ChangeStream(client).version(tenant));
              break;
            case 'bulk': {
              const results = await rules.writeMany(tenant, op.drafts, { duplicates: 'override' });
              for (const r of results) if (!ids.includes(r.id)) ids.push(r.id);
              saw(await rules.publishReload(tenant));
              break;
            }
            case 'purge':
              await rules.purgeExpired(tenant, NOW);
              saw(await client.get(`cg:{${tenant}}:ver`).then((v) => v ?? '0-0'));
              break;
            case 'startB':
              if (!b) {
                b = node(false);
                await b.ready;
              }
              break;
          }
        }
        b ??= node(false);
        assert.ok(await a.waitFor(last, 20_000), `node A reached ${last}`);
        assert.ok(await b.waitFor(last, 20_000), `node B reached ${last}`);
        const reference = await fromStore(client, tenant);
        for (const ctx of CONTEXTS) {
          const want = summary(reference.decide(ctx));
          assert.deepEqual(summary(a.decider()!.decide(ctx)), want, `node A, ${JSON.stringify(ctx)}`);
          assert.deepEqual(summary(b.decider()!.decide(ctx)), want, `node B, ${JSON.stringify(ctx)}`);
        }
      } finally {
        await a.stop();
        await b?.stop();
      }
    }),
    { numRuns },
  );
}
