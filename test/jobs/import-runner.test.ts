import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import type { ImportParams } from '../../src/jobs/import-params.js';
import { ImportRunner } from '../../src/jobs/import-runner.js';
import { silentLogger } from '../../src/log.js';
import { jobKeys, tenantKeys } from '../../src/store/keys.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { seedCatalog } from './support/catalog.js';

const STORE = { streamMaxLen: 1000, snapshotEvery: 100 };
const STAMP = 1_800_000_000_000;
let jobSeq = 0;

const csv = (lines: string[]) => `${lines.join('\n')}\n`;
const fromText = (text: string | Buffer) => async () => Readable.from([Buffer.from(text)]);

async function allRules(repo: RuleRepository, tenant: string) {
  const out = [];
  for await (const batch of repo.scan(tenant)) out.push(...batch);
  return out;
}

describe.skipIf(skipWithoutRedis)('ImportRunner', () => {
  let redis: TestRedis;
  let client: Redis;
  let repo: RuleRepository;
  let runner: ImportRunner;
  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    repo = new RuleRepository(client, STORE);
    runner = new ImportRunner(client, STORE);
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const importText = (
    tenant: string,
    text: string | Buffer,
    params: Partial<ImportParams> = {},
    limit = 50_000,
  ) =>
    runner.run({
      tenant,
      jobId: `j${++jobSeq}`,
      params: { overrideRule: 'skip', ...params } as ImportParams,
      stamp: STAMP,
      limit,
      open: fromText(text),
      log: silentLogger,
    });

  it('imports good rows, reports bad ones with line, column and reason, and fills job defaults', async () => {
    const t = redis.tenant();
    await seedCatalog(client, t, { ous: ['sales'], groups: ['dnc'], types: ['popup'] });
    const jobId = `j${++jobSeq}`;
    const result = await runner.run({
      tenant: t,
      jobId,
      params: { overrideRule: 'skip', ou: 'sales', groupId: 'dnc', validity: { value: 2, unit: 'day' } },
      stamp: STAMP,
      limit: 100,
      open: fromText(
        csv([
          'called,direction,action,type,validity_value,validity_unit',
          '14045266123,outbound,block,,,',
          '12X,outbound,block,,,',
          '_1404!,inbound,allow,popup,1,hour',
          '15551234567,sideways,block,,,',
        ]),
      ),
      log: silentLogger,
    });
    assert.deepEqual(
      { read: result.read, imported: result.imported, skipped: result.skipped, failed: result.failed },
      { read: 4, imported: 2, skipped: 0, failed: 2 },
    );
    const rules = await allRules(repo, t);
    assert.equal(rules.length, 2);
    assert.ok(rules.every((r) => r.ou === 'sales' && r.groupId === 'dnc' && r.updatedAt === STAMP));
    assert.equal(rules.find((r) => r.called === '14045266123')?.expiresAt, STAMP + 2 * 86_400_000);
    assert.equal(rules.find((r) => r.called === '_1404!')?.expiresAt, STAMP + 3_600_000);
    // The indexes are the ones every write keeps: by OU, group, type and number.
    assert.equal((await repo.listBy(t, 'ou', 'sales')).items.length, 2);
    assert.equal((await repo.listBy(t, 'group', 'dnc')).items.length, 2);
    assert.equal((await repo.listBy(t, 'type', 'popup')).items.length, 1);
    assert.equal((await repo.findByPattern(t, '14045266123')).length, 1);
    assert.equal((await repo.findByPrefix(t, '1404')).items.length, 2);
    const errors = await client.lrange(jobKeys(t, jobId).errors, 0, -1);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /^3,called,/);
    assert.match(errors[1]!, /^5,direction,/);
  });

  it('skip keeps the existing rule, override replaces it in place', async () => {
    const t = redis.tenant();
    await seedCatalog(client, t, { types: ['old', 'new'] });
    const existing = await repo.create(t, {
      called: '14045266123',
      direction: 'outbound',
      action: 'block',
      typeId: 'old',
    });
    const file = csv([
      'called,direction,action,type',
      '14045266123,outbound,allow,new',
      '14045260000,outbound,block,new',
    ]);
    const skipped = await importText(t, file, { overrideRule: 'skip' });
    assert.equal(skipped.skipped, 1);
    assert.equal(skipped.imported, 1);
    assert.equal((await repo.get(t, existing.rule.id))?.typeId, 'old');
    const overridden = await importText(t, file, { overrideRule: 'override' });
    assert.equal(overridden.imported, 2);
    const after = await repo.get(t, existing.rule.id);
    assert.equal(after?.typeId, 'new');
    assert.equal(after?.action, 'allow');
    assert.equal((await allRules(repo, t)).length, 2);
  });

  it('a rule repeated inside one file is one rule: skip keeps the first row, override the last', async () => {
    for (const [mode, kept, dropped] of [
      ['skip', 'first', 'last'],
      ['override', 'last', 'first'],
    ] as const) {
      const t = redis.tenant();
      await seedCatalog(client, t, { types: ['first', 'other', 'last'] });
      const file = csv([
        'called,direction,action,type',
        '14045267000,outbound,block,first',
        '14045267000,inbound,block,other',
        '14045267000,outbound,allow,last',
      ]);
      const result = await importText(t, file, { overrideRule: mode });
      assert.equal(result.imported + result.skipped, 3, mode);
      const rules = await allRules(repo, t);
      assert.equal(rules.length, 2, `${mode}: the inbound row has other conditions, so it is its own rule`);
      assert.equal(rules.find((r) => r.direction === 'outbound')?.typeId, kept, mode);
      // The number index lists both rules once; the type index follows the kept row.
      const byNumber = await repo.findByPattern(t, '14045267000', 'called');
      assert.deepEqual(byNumber.map((r) => r.id).sort(), rules.map((r) => r.id).sort(), mode);
      assert.equal((await repo.listBy(t, 'type', kept)).items.length, 1, mode);
      assert.equal((await repo.listBy(t, 'type', dropped)).items.length, 0, mode);
    }
  });

  it('into a tenant whose number index has split, finds repeated numbers and keeps new ones findable', async () => {
    const t = redis.tenant();
    const dense = Array.from({ length: 2000 }, (_, i) => `1404526${String(i * 3).padStart(4, '0')}`);
    const sparse = Array.from(
      { length: 3000 },
      (_, i) => `44${String((i * 7919) % 100000).padStart(8, '0')}`,
    );
    const rows = (numbers: string[]) =>
      csv(['called,direction,action', ...numbers.map((n) => `${n},outbound,block`)]);
    assert.equal((await importText(t, rows([...dense, ...sparse]))).imported, 5000);
    // A batch reads the whole split set at once when it has at most two prefixes per script argument
    // (8 + rows); a smaller batch asks Redis, first at the previous leaf's depth. The small file below
    // is one.
    const splits = await client.scard(`cg:{${t}}:ns:c`);
    assert.ok(
      splits > 2 * (8 + 4),
      `the index split into more prefixes (${splits}) than the small file reads at once`,
    );

    // Numbers at several depths of the index, in an order where each lookup starts where the previous
    // one ended: both kinds of batch see the numbers already there, wherever the splits put them.
    const fresh = Array.from({ length: 600 }, (_, i) => `1404526${String(i * 3 + 1).padStart(4, '0')}`);
    const large = await importText(t, rows([...dense.slice(0, 900), ...fresh.slice(0, 500), ...sparse]));
    assert.deepEqual([large.imported, large.skipped], [500, 3900]);
    const small = await importText(t, rows([dense[1999]!, sparse[3]!, fresh[499]!, fresh[500]!]));
    assert.deepEqual([small.imported, small.skipped], [1, 3]);

    for (const n of [dense[0]!, dense[1999]!, sparse[2999]!, fresh[0]!, fresh[500]!]) {
      assert.deepEqual(
        (await repo.findByPattern(t, n, 'called')).map((r) => r.called),
        [n],
      );
    }
    assert.equal((await allRules(repo, t)).length, 5501);
  });

  it('overwrite replaces the OU + group scope and leaves other scopes alone', async () => {
    const t = redis.tenant();
    await seedCatalog(client, t, { ous: ['sales', 'support'], groups: ['dnc', 'vip'] });
    await repo.writeMany(t, [
      { called: '111', direction: 'both', action: 'block', ou: 'sales', groupId: 'dnc' },
      { called: '222', direction: 'both', action: 'block', ou: 'sales', groupId: 'dnc' },
      { called: '333', direction: 'both', action: 'block', ou: 'sales', groupId: 'vip' },
      { called: '444', direction: 'both', action: 'block', ou: 'support', groupId: 'dnc' },
    ]);
    const before = (await allRules(repo, t)).map((r) => `${r.called}/${r.ou}/${r.groupId}`).sort();
    const file = csv(['called,ou', '222,', '555,', '666,support']);
    const scope = { overrideRule: 'overwrite', ou: 'sales', groupId: 'dnc' } as const;
    // A row is refused: by default the overwrite applies nothing and deletes nothing.
    await assert.rejects(
      importText(t, file, scope),
      (e: unknown) =>
        e instanceof CallguardError &&
        e.code === 'CG_ERR_CSV_INVALID' &&
        /1 of 3 rows have errors.*allowPartial/.test(e.message),
    );
    assert.deepEqual((await allRules(repo, t)).map((r) => `${r.called}/${r.ou}/${r.groupId}`).sort(), before);
    // allowPartial: the good rows land and the rest of the scope goes.
    const result = await importText(t, file, { ...scope, allowPartial: true });
    assert.equal(result.imported, 2);
    assert.equal(result.failed, 1, 'a row of another OU is refused');
    assert.equal(result.deleted, 1);
    const numbers = (await allRules(repo, t)).map((r) => `${r.called}/${r.ou}/${r.groupId}`).sort();
    assert.deepEqual(numbers, ['222/sales/dnc', '333/sales/vip', '444/support/dnc', '555/sales/dnc']);
  });

  it("waits for the tenant's import lock however long another job holds it, and writes nothing without it", async () => {
    // Two overwrites of one scope side by side would each purge the other's rows: both "completed",
    // the scope left empty. So an import never applies or purges without the lock.
    const t = redis.tenant();
    await seedCatalog(client, t, { ous: ['sales'], groups: ['dnc'] });
    await repo.writeMany(t, [
      { called: '111', direction: 'both', action: 'block', ou: 'sales', groupId: 'dnc' },
    ]);
    const lock = tenantKeys(t).snapshotLock;
    await client.set(lock, 'import:another-job', 'PX', 60_000);
    const quickPolls = new ImportRunner(client, STORE, { lockPollMs: 5 });
    const running = quickPolls.run({
      tenant: t,
      jobId: `j${++jobSeq}`,
      params: { overrideRule: 'overwrite', ou: 'sales', groupId: 'dnc' } as ImportParams,
      stamp: STAMP,
      limit: 50_000,
      open: fromText(csv(['called', '555', '666'])),
      log: silentLogger,
    });
    let settled = false;
    void running.finally(() => {
      settled = true;
    });
    // 600 polls and more: twice the 300 after which the import used to go ahead without the lock
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(settled, false, 'still waiting for the lock');
    assert.deepEqual((await allRules(repo, t)).map((r) => r.called).sort(), ['111']);
    await client.del(lock);
    const result = await running;
    assert.equal(result.imported, 2);
    assert.deepEqual((await allRules(repo, t)).map((r) => r.called).sort(), ['555', '666']);
  });

  it('refuses a file over the record limit before importing anything', async () => {
    const t = redis.tenant();
    const rows = ['called'];
    for (let i = 0; i < 11; i++) rows.push(String(1000 + i));
    await assert.rejects(
      importText(t, csv(rows), {}, 10),
      (e: unknown) =>
        e instanceof CallguardError &&
        e.code === 'CG_ERR_LIMIT_EXCEEDED' &&
        /more than 10 records/.test(e.message),
    );
    assert.equal((await allRules(repo, t)).length, 0);
    const ok = await importText(t, csv(rows.slice(0, 11)), {}, 10);
    assert.equal(ok.imported, 10);
  });

  for (const [name, body, pattern] of [
    [
      'binary junk',
      Buffer.concat([Buffer.from('called\n123\n'), Buffer.from([0, 1, 2, 255, 254])]),
      /binary/,
    ],
    ['another encoding', Buffer.from('called,remarks\n123,caf\xe9\n', 'latin1'), /not UTF-8/],
    [
      'UTF-16 text',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('called\n123\n', 'utf16le')]),
      /UTF-16/,
    ],
    ['a huge line', `called,remarks\n123,${'x'.repeat(20_000)}\n`, /longer than/],
    ['an unknown column', 'called,colour\n123,red\n', /unknown column/],
    [
      'lines that end with CR alone',
      'called,action,remarks\r123,block,x\r456,block,y\r',
      /carriage return alone.*LF or CRLF/,
    ],
    ['no number column', 'direction,action\nboth,block\n', /called or a calling column/],
    ['a stray quote', 'called,remarks\n123,ab"c\n', /not quoted/],
    [
      'an unclosed quote',
      'called,remarks\n123,"open\n456,x\n',
      /quoted cell is never closed|not a readable CSV/,
    ],
  ] as const) {
    it(`refuses ${name} with a clear error and imports nothing`, async () => {
      const t = redis.tenant();
      await assert.rejects(
        importText(t, body),
        (e: unknown) =>
          e instanceof CallguardError && e.code === 'CG_ERR_CSV_INVALID' && pattern.test(e.message),
      );
      assert.equal((await allRules(repo, t)).length, 0);
    });
  }

  it('imports formula-looking remarks as plain text', async () => {
    const t = redis.tenant();
    const r = await importText(t, csv(['called,remarks', '123,"=HYPERLINK(""x"")"', '124,@SUM(A1)']));
    assert.equal(r.imported, 2);
    const remarks = (await allRules(repo, t)).map((x) => x.remarks).sort();
    assert.deepEqual(remarks, ['=HYPERLINK("x")', '@SUM(A1)']);
  });

  it('resumes after a crash without applying a batch twice', async () => {
    const t = redis.tenant();
    const jobId = `j${++jobSeq}`;
    const rows = ['called'];
    for (let i = 0; i < 2500; i++) rows.push(String(2_000_000 + i));
    const params = { overrideRule: 'skip' } as ImportParams;
    // A first run whose source dies after the first part of the file: batches before it landed.
    const text = csv(rows);
    const cut = text.indexOf('\n', Math.floor(text.length * 0.6));
    await assert.rejects(
      runner.run({
        tenant: t,
        jobId,
        params,
        stamp: STAMP,
        limit: 10_000,
        open: async () => {
          const opened = (await client.hget(jobKeys(t, jobId).progress, 'phase')) === 'apply';
          if (!opened) return Readable.from([Buffer.from(text)]);
          return Readable.from(
            (async function* () {
              yield Buffer.from(text.slice(0, cut + 1));
              await new Promise((r) => setTimeout(r, 200));
              throw new Error('worker died');
            })(),
          );
        },
        log: silentLogger,
      }),
    );
    const mark = Number(await client.hget(jobKeys(t, jobId).progress, 'line'));
    assert.ok(mark > 1 && mark < 2501, `some batches landed (mark ${mark})`);
    const result = await runner.run({
      tenant: t,
      jobId,
      params,
      stamp: STAMP,
      limit: 10_000,
      open: fromText(text),
      log: silentLogger,
    });
    assert.deepEqual(
      { read: result.read, imported: result.imported, skipped: result.skipped },
      { read: 2500, imported: 2500, skipped: 0 },
    );
    assert.equal((await allRules(repo, t)).length, 2500);
  });
});
