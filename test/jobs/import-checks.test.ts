import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import type { BulkJobs } from '../../src/jobs/bulk-jobs.js';
import type { ImportParams } from '../../src/jobs/import-params.js';
import type { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutRedis, type TestRedis } from '../support/redis-server.js';
import { seedCatalog } from './support/catalog.js';
import { type JobWorkers, startJobWorkers } from './support/job-workers.js';

const csv = (lines: string[]) => `${lines.join('\n')}\n`;

describe.skipIf(skipWithoutRedis)('imports check rows as the API checks a rule', () => {
  let w: JobWorkers;
  let redis: TestRedis;
  let client: Redis;
  let jobs: BulkJobs;
  let rules: RuleRepository;

  beforeAll(async () => {
    w = await startJobWorkers('import-checks');
    ({ redis, client, jobs, rules } = w);
  });
  afterAll(async () => {
    await w?.stop();
  });

  const all = async (tenant: string) => {
    const out = [];
    for await (const batch of rules.scan(tenant)) out.push(...batch);
    return out.map((r) => `${r.called}/${r.action}/${r.ou ?? '-'}`).sort();
  };

  /** Runs an upload import job; returns its view and its errors file's rows (line, column, reason). */
  async function importCsv(tenant: string, text: string, params: Partial<ImportParams>, keyOus?: string[]) {
    const id = await jobs.service.submitUploadImport(
      tenant,
      Readable.from([text]),
      params,
      'key:k',
      keyOus,
      keyOus,
    );
    const view = await jobs.service.waitFor(tenant, id, undefined, 60_000);
    const file = await jobs.service.errorsFile(tenant, id);
    let errors: string[][] = [];
    if (file) {
      const chunks: Buffer[] = [];
      for await (const c of file) chunks.push(c as Buffer);
      errors = (parse(Buffer.concat(chunks).toString(), { comment: '#' }) as string[][]).slice(1);
    }
    return { view, errors };
  }

  it('refuses rows naming a group, type or OU that does not exist, naming the column', async () => {
    const t = redis.tenant();
    await seedCatalog(client, t, { ous: ['east'], groups: ['dnc'], types: ['wrap'] });
    const { view, errors } = await importCsv(
      t,
      csv(['called,group,type,ou', '1001,dnc,wrap,east', '1002,nosuch,,', '1003,,ghost,', '1004,,,mars']),
      {},
    );
    assert.equal(view.state, 'completed', JSON.stringify(view.error));
    assert.deepEqual([view.progress.imported, view.progress.failed], [1, 3]);
    assert.deepEqual(
      errors.map(([line, column]) => `${line}:${column}`),
      ['3:group', '4:type', '5:ou'],
    );
    assert.match(errors[0]![2]!, /group "nosuch" does not exist/);
    assert.deepEqual(await all(t), ['1001/block/east']);
  });

  it('a job default naming a missing group fails every row instead of creating the group', async () => {
    const t = redis.tenant();
    const { view, errors } = await importCsv(t, csv(['called', '1001', '1002']), { groupId: 'typo' });
    assert.deepEqual([view.progress.imported, view.progress.failed], [0, 2]);
    assert.ok(errors.every(([, column]) => column === 'group'));
    assert.equal(await client.hlen(`cg:{${t}}:groups`), 0);
  });

  it('a row with more cells than the header is an error for the row, not a dropped cell', async () => {
    const t = redis.tenant();
    const { view, errors } = await importCsv(
      t,
      csv(['called,action', '1001,block', '1002,allow,surprise']),
      {},
    );
    assert.deepEqual([view.progress.imported, view.progress.failed], [1, 1]);
    assert.deepEqual(errors[0]!.slice(0, 2), ['3', 'row']);
    assert.match(errors[0]![2]!, /3 cells, but the header names 2 columns/);
  });

  it('an unknown column fails the file and lists the accepted columns, the export columns among them', async () => {
    const t = redis.tenant();
    await assert.rejects(
      jobs.service.submitUploadImport(t, Readable.from([csv(['called,colour', '1,red'])]), {}, 'u'),
      (e: unknown) =>
        e instanceof CallguardError &&
        e.code === 'CG_ERR_CSV_INVALID' &&
        /unknown column\(s\) "colour"; accepted columns: id,called,.*,remarks,created_at,expires_at/.test(
          e.message,
        ),
    );
  });

  for (const mode of ['skip', 'override', 'overwrite'] as const) {
    it(`an agent key limited to OU east cannot import rows of OU west (${mode})`, async () => {
      const t = redis.tenant();
      await seedCatalog(client, t, { ous: ['east', 'west'] });
      await rules.create(t, { called: '2001', direction: 'both', action: 'block', ou: 'west' });
      await rules.create(t, { called: '2002', direction: 'both', action: 'block', ou: 'east' });
      const file = csv(['called,action,ou', '2001,allow,west', '2003,block,east', '2004,block,']);
      const params = { overrideRule: mode, ...(mode === 'overwrite' ? { ou: 'east' } : {}) } as const;
      const { view, errors } = await importCsv(t, file, params, ['east']);
      const rowErrors = errors.map(([line, column]) => `${line}:${column}`);
      if (mode === 'overwrite') {
        // A row is refused, so the overwrite applies nothing (allowPartial not given).
        assert.equal(view.state, 'failed');
        assert.deepEqual(rowErrors, ['2:ou']);
        assert.deepEqual(await all(t), ['2001/block/west', '2002/block/east']);
      } else {
        assert.equal(view.state, 'completed', JSON.stringify(view.error));
        // The empty ou of line 4 is filled with nothing (no job default): an agent's row needs one.
        assert.deepEqual(rowErrors, ['2:ou', '4:ou']);
        assert.deepEqual(await all(t), ['2001/block/west', '2002/block/east', '2003/block/east']);
      }
      assert.match(errors[0]![2]!, /ou "west" is not one of this key's OUs \(east\)/);
    });
  }

  for (const mode of ['skip', 'override'] as const) {
    it(`an east-only key's row that duplicates a west rule is refused and the west rule is untouched (${mode})`, async () => {
      const t = redis.tenant();
      await seedCatalog(client, t, { ous: ['east', 'west'] });
      await rules.create(t, { called: '4001', direction: 'both', action: 'block', ou: 'west' });
      const { view, errors } = await importCsv(
        t,
        csv(['called,action,ou', '4001,allow,east', '4002,allow,east']),
        { overrideRule: mode },
        ['east'],
      );
      assert.equal(view.state, 'completed', JSON.stringify(view.error));
      assert.deepEqual([view.progress.imported, view.progress.skipped, view.progress.failed], [1, 0, 1]);
      assert.deepEqual(
        errors.map(([line, column]) => `${line}:${column}`),
        ['2:called'],
      );
      assert.match(errors[0]![2]!, /outside this key's OUs has identical conditions/);
      assert.deepEqual(await all(t), ['4001/block/west', '4002/allow/east']);
    });
  }

  it('overwrite with allowPartial applies the good rows and deletes the rest, and the job view shows the flag', async () => {
    const t = redis.tenant();
    await seedCatalog(client, t, { ous: ['east'] });
    await rules.create(t, { called: '3001', direction: 'both', action: 'block', ou: 'east' });
    const { view, errors } = await importCsv(t, csv(['called,group', '3002,', '3003,ghost']), {
      overrideRule: 'overwrite',
      ou: 'east',
      allowPartial: true,
    });
    assert.equal(view.state, 'completed', JSON.stringify(view.error));
    assert.equal((view.source?.params as ImportParams | undefined)?.allowPartial, true);
    assert.deepEqual(
      errors.map(([line, column]) => `${line}:${column}`),
      ['3:group'],
    );
    assert.deepEqual(await all(t), ['3002/block/east']);
  });
});
