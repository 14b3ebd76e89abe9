import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

const T = 1_800_000_000_000;

describe.skipIf(skipWithoutRedis)('RuleRepository', () => {
  let redis: TestRedis;
  let client: Redis;
  let repo: RuleRepository;
  const now = T;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    repo = new RuleRepository(client, { streamMaxLen: 1000, snapshotEvery: 100 }, () => now);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('creates rules with increasing ids and reads them back whole', async () => {
    const t = redis.tenant();
    const a = await repo.create(t, {
      called: '14045266123',
      direction: 'outbound',
      action: 'block',
      groupId: 'dnc',
      typeId: 'wrap',
      ou: 'sales',
      expiresAt: T + 3_600_000,
      remarks: 'asked not to be called\u001fagain',
    });
    const b = await repo.create(t, { calling: 'anonymous', direction: 'inbound', action: 'block' });
    assert.equal(a.status, 'created');
    assert.equal(b.rule.id, a.rule.id + 1);
    assert.deepEqual(await repo.get(t, a.rule.id), { ...a.rule, updatedAt: T });
    assert.deepEqual(await repo.get(t, b.rule.id), b.rule);
  });

  it('rejects, skips or overrides a rule with identical conditions', async () => {
    const t = redis.tenant();
    const base = { called: '_1404!', direction: 'both', action: 'block', groupId: 'g' } as const;
    const first = await repo.create(t, base);
    await assert.rejects(
      repo.create(t, { ...base, action: 'allow' }),
      (e: unknown) => e instanceof CallguardError && e.code === 'CG_ERR_DUPLICATE_RULE',
    );
    const skipped = await repo.create(t, { ...base, action: 'allow' }, 'skip');
    assert.equal(skipped.status, 'skipped');
    assert.equal(skipped.rule.action, 'block');
    const replaced = await repo.create(t, { ...base, action: 'allow', typeId: 'x' }, 'override');
    assert.equal(replaced.status, 'replaced');
    assert.equal(replaced.rule.id, first.rule.id);
    assert.equal((await repo.get(t, first.rule.id))?.action, 'allow');
    // Different scope: not a duplicate.
    const other = await repo.create(t, { ...base, user: 'alice' });
    assert.equal(other.status, 'created');
  });

  it('updates a rule in place and keeps its indexes right', async () => {
    const t = redis.tenant();
    const { rule } = await repo.create(t, {
      called: '3712345',
      direction: 'both',
      action: 'block',
      groupId: 'a',
    });
    await repo.update(t, { ...rule, called: '3799999', groupId: 'b' });
    assert.deepEqual((await repo.findByPattern(t, '3712345')).length, 0);
    assert.deepEqual(
      (await repo.findByPattern(t, '3799999')).map((r) => r.id),
      [rule.id],
    );
    assert.deepEqual((await repo.listBy(t, 'group', 'a')).items, []);
    assert.deepEqual(
      (await repo.listBy(t, 'group', 'b')).items.map((r) => r.id),
      [rule.id],
    );
    await assert.rejects(
      repo.update(t, { ...rule, id: 999 }),
      (e: unknown) => (e as CallguardError).code === 'CG_ERR_NOT_FOUND',
    );
  });

  it('deletes rules with their indexes', async () => {
    const t = redis.tenant();
    const { rule } = await repo.create(t, {
      called: '123456',
      direction: 'both',
      action: 'block',
      typeId: 'x',
    });
    const res = await repo.delete(t, [rule.id, 424242]);
    assert.deepEqual(res.deleted, [rule.id]);
    assert.equal(await repo.get(t, rule.id), undefined);
    assert.deepEqual(await repo.findByPattern(t, '123456'), []);
    assert.deepEqual((await repo.listBy(t, 'type', 'x')).items, []);
    // Empty index structures are removed with their last member.
    const keys = await client.keys(`cg:{${t}}:*`);
    assert.deepEqual(
      keys.filter((k) => /:(n|nd|x|xd|e|ed):/.test(k) || k.endsWith(':ed')),
      [],
    );
  });

  it('lists all rules and by group, type and OU, page by page', async () => {
    const t = redis.tenant();
    const drafts = Array.from({ length: 1200 }, (_, i) => ({
      called: `1555${String(i).padStart(7, '0')}`,
      direction: 'outbound' as const,
      action: 'block' as const,
      groupId: i % 2 === 0 ? 'even' : 'odd',
      typeId: i % 3 === 0 ? 'three' : undefined,
      ou: 'ou1',
    }));
    const results = await repo.writeMany(t, drafts, { batch: 100 });
    assert.equal(results.filter((r) => r.status === 'created').length, 1200);
    const collect = async (page: (after?: string) => Promise<{ items: { id: number }[]; next?: string }>) => {
      const ids: number[] = [];
      let after: string | undefined;
      for (let i = 0; i < 100; i++) {
        const p = await page(after);
        ids.push(...p.items.map((r) => r.id));
        after = p.next;
        if (!after) break;
      }
      return ids;
    };
    const all = await collect((after) => repo.list(t, { after, limit: 250 }));
    assert.deepEqual(
      all,
      Array.from({ length: 1200 }, (_, i) => i + 1),
    );
    const even = await collect((after) => repo.listBy(t, 'group', 'even', { after, limit: 100 }));
    assert.deepEqual(
      even,
      all.filter((id) => id % 2 === 1),
    );
    const three = await collect((after) => repo.listBy(t, 'type', 'three', { after, limit: 77 }));
    assert.equal(three.length, 400);
    const ou = await collect((after) => repo.listBy(t, 'ou', 'ou1', { after, limit: 1000 }));
    assert.equal(ou.length, 1200);
  });

  it('finds rules by number and by number prefix', async () => {
    const t = redis.tenant();
    await repo.create(t, { called: '14045266123', direction: 'outbound', action: 'block' });
    await repo.create(t, { called: '_14045266XXX', direction: 'outbound', action: 'block' });
    await repo.create(t, { called: '_1404!', direction: 'outbound', action: 'block' });
    await repo.create(t, { calling: '14045260000', direction: 'inbound', action: 'block' });
    await repo.create(t, { called: '15550000000', direction: 'outbound', action: 'block' });
    assert.deepEqual(
      (await repo.findByPattern(t, '14045266123')).map((r) => r.called),
      ['14045266123'],
    );
    assert.deepEqual(
      (await repo.findByPattern(t, '_1404!')).map((r) => r.called),
      ['_1404!'],
    );
    const prefix = await repo.findByPrefix(t, '140452');
    assert.deepEqual(prefix.items.map((r) => r.called ?? r.calling).sort(), [
      '14045260000',
      '14045266123',
      '_14045266XXX',
    ]);
    const calledOnly = await repo.findByPrefix(t, '1404', { side: 'called' });
    assert.equal(calledOnly.items.length, 3);
    const p1 = await repo.findByPrefix(t, '1', { limit: 2 });
    const p2 = await repo.findByPrefix(t, '1', { limit: 2, after: p1.next });
    const p3 = await repo.findByPrefix(t, '1', { limit: 2, after: p2.next });
    assert.equal(new Set([...p1.items, ...p2.items, ...p3.items].map((r) => r.id)).size, 5);
    assert.equal(p3.next, undefined);
  });

  it('keeps number lookups and prefix pages exact while the number index splits under load', async () => {
    const t = redis.tenant();
    const numbers = [
      ...Array.from({ length: 700 }, (_, i) => `1404526${String(i).padStart(4, '0')}`),
      ...Array.from({ length: 300 }, (_, i) => `44${String((i * 7919) % 100000).padStart(8, '0')}`),
    ];
    const patterns = ['_1404!', '_14045.', '_140452XXXX', '1404'];
    await repo.writeMany(
      t,
      [...numbers, ...patterns].map((called) => ({
        called,
        direction: 'outbound' as const,
        action: 'block' as const,
      })),
    );
    assert.ok((await client.scard(`cg:{${t}}:ns:c`)) > 1, 'the index split');
    for (const n of [numbers[0]!, numbers[699]!, numbers[850]!, '_140452XXXX', '1404']) {
      assert.deepEqual(
        (await repo.findByPattern(t, n)).map((r) => r.called),
        [n],
      );
    }
    const collect = async (prefix: string, limit: number) => {
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 2000; i++) {
        const page = await repo.findByPrefix(t, prefix, { after, limit });
        seen.push(...page.items.map((r) => r.called!));
        after = page.next;
        if (!after) break;
      }
      return seen;
    };
    const want1404 = [...numbers.slice(0, 700), ...patterns];
    const got = await collect('1404', 33);
    assert.deepEqual([...got].sort(), [...want1404].sort());
    assert.equal(new Set(got).size, got.length, 'no rule twice across pages');
    assert.deepEqual(
      (await collect('14045260', 7)).sort(),
      numbers.filter((n) => n.startsWith('14045260')).sort(),
    );
    assert.equal((await collect('44', 100)).length, 300);
    assert.equal((await collect('', 250)).length, 1004);
  });

  it('purges expired rules and announces them', async () => {
    const t = redis.tenant();
    const soon = await repo.create(t, {
      called: '111111',
      direction: 'both',
      action: 'block',
      expiresAt: T + 60_000,
    });
    const later = await repo.create(t, {
      called: '222222',
      direction: 'both',
      action: 'block',
      expiresAt: T + 86_400_000,
    });
    const forever = await repo.create(t, { called: '333333', direction: 'both', action: 'block' });
    assert.equal(await repo.purgeExpired(t, T + 120_000), 1);
    assert.equal(await repo.get(t, soon.rule.id), undefined);
    assert.ok(await repo.get(t, later.rule.id));
    assert.ok(await repo.get(t, forever.rule.id));
    const last = await client.xrevrange(`cg:{${t}}:changes`, '+', '-', 'COUNT', 1);
    assert.deepEqual(last[0]![1].slice(0, 4), ['op', 'd', 'ids', String(soon.rule.id)]);
    assert.equal(await repo.purgeExpired(t, T + 120_000), 0);
  });

  it('refuses rules that are not valid', async () => {
    const t = redis.tenant();
    await assert.rejects(
      repo.create(t, { direction: 'both', action: 'block' } as never),
      (e: unknown) => (e as CallguardError).code === 'CG_ERR_RULE_INVALID',
    );
  });
});
