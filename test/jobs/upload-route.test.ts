import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type JobsApi, startJobsApi } from './support/jobs-api.js';
import { type FormPart, field, filePart, multipartBody } from './support/multipart.js';

const FILE = 'called,action\n14045550001,block\n';
const GOOD_FILE = 'called,action\n14045550009,block\n';

describe.skipIf(skipWithoutRedis)(
  'POST /v1/imports: a multipart upload is read whole before anything starts',
  () => {
    let h: JobsApi;

    beforeAll(async () => {
      h = await startJobsApi('upload-route', 'upload-route-secret-key-01');
    });
    afterAll(async () => {
      await h?.stop();
    });

    const tenant = async () => {
      const id = h.redis.tenant();
      await h.deps.tenants.create(id);
      await h.deps.catalog.putOu(id, { id: 'sales', name: 'sales' });
      const { key } = await h.deps.keys.create(id, { role: 'tenant_admin' });
      return { id, auth: { authorization: `Bearer ${key}` } };
    };
    const upload = (auth: Record<string, string>, parts: readonly FormPart[]) => {
      const { payload, contentType } = multipartBody(parts);
      return h.app.inject({
        method: 'POST',
        url: '/v1/imports',
        headers: { ...auth, 'content-type': contentType },
        payload,
      });
    };
    const get = async (auth: Record<string, string>, url: string) => {
      const r = await h.app.inject({ method: 'GET', url, headers: auth });
      assert.equal(r.statusCode, 200, r.body);
      return r.json();
    };
    const finished = async (auth: Record<string, string>, id: string) => {
      for (let i = 0; i < 300; i++) {
        const v = await get(auth, `/v1/jobs/${id}`);
        if (v.state === 'completed' || v.state === 'failed') return v;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`job ${id} did not finish`);
    };

    /**
     * After a refused upload: no stored file of any job; then a good upload (one worker: a job the refused
     * request had queued would run first) is the only job, its rule the only rule, its entries the only
     * import entries of the audit trail.
     */
    const assertNothingStarted = async (t: { id: string; auth: Record<string, string> }) => {
      assert.deepEqual(
        await h.redis.client().keys(`cg:{${t.id}}:job:*`),
        [],
        'a refused upload left stored files',
      );
      const good = await upload(t.auth, [filePart(GOOD_FILE)]);
      assert.equal(good.statusCode, 202, good.body);
      const id = good.json().id as string;
      assert.equal((await finished(t.auth, id)).state, 'completed');
      const jobs = await get(t.auth, '/v1/jobs');
      assert.deepEqual(
        jobs.items.map((j: { id: string }) => j.id),
        [id],
      );
      const rules = await get(t.auth, '/v1/rules');
      assert.deepEqual(
        rules.items.map((r: { called: string }) => r.called),
        ['14045550009'],
      );
      let imports: Array<{ target: string; action: string }> = [];
      for (let i = 0; i < 100 && imports.length < 2; i++) {
        imports = (await get(t.auth, '/v1/audit?kind=import&limit=100')).items;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(imports.map((e) => `${e.action} ${e.target}`).sort(), [`finish ${id}`, `start ${id}`]);
    };

    const assertRefused = (res: { statusCode: number; body: string; json(): unknown }, message: RegExp) => {
      assert.equal(res.statusCode, 400, res.body);
      const body = res.json() as { code: string; message: string };
      assert.equal(body.code, 'CG_ERR_INPUT_INVALID');
      assert.match(body.message, message);
    };

    it('a second file part is refused with the limits, and nothing is imported', async () => {
      const t = await tenant();
      const res = await upload(t.auth, [filePart(FILE), filePart(FILE, 'extra')]);
      assertRefused(
        res,
        /^more than one file part; accepted: one file part "file" \(the CSV\) and at most once each/,
      );
      await assertNothingStarted(t);
    });

    it('more than 20 fields after the file are refused, and nothing is imported', async () => {
      const t = await tenant();
      const fields = Array.from({ length: 21 }, (_, i) => field(`f${i}`, 'x'));
      const res = await upload(t.auth, [filePart(FILE), ...fields]);
      assertRefused(res, /^unknown field "f0"; accepted: one file part "file"/);
      const repeated = Array.from({ length: 21 }, () => field('overrideRule', 'skip'));
      assertRefused(
        await upload(t.auth, [filePart(FILE), ...repeated]),
        /^field "overrideRule" is given twice/,
      );
      await assertNothingStarted(t);
    });

    it('a misspelt field is refused by name with the accepted ones, before or after the file', async () => {
      for (const parts of [
        [field('overideRule', 'override'), filePart(FILE)],
        [filePart(FILE), field('overideRule', 'override')],
      ]) {
        const t = await tenant();
        const res = await upload(t.auth, parts);
        assertRefused(
          res,
          /^unknown field "overideRule"; accepted: one file part "file" \(the CSV\) and at most once each the fields overrideRule, ou, groupId, typeId, validityValue, validityUnit, validity, allowPartial$/,
        );
        await assertNothingStarted(t);
      }
    });

    it('a field given twice, or a file part under another name, is refused', async () => {
      const t = await tenant();
      assertRefused(
        await upload(t.auth, [field('ou', 'sales'), filePart(FILE), field('ou', 'other')]),
        /field "ou" is given twice/,
      );
      assertRefused(await upload(t.auth, [filePart(FILE, 'rules')]), /unknown field "rules"/);
      await assertNothingStarted(t);
    });

    it('a bad field after the file (validity, override rule, OU of another key) refuses the whole upload', async () => {
      const t = await tenant();
      assertRefused(
        await upload(t.auth, [filePart(FILE), field('validityValue', 'abc'), field('validityUnit', 'day')]),
        /validityValue: "abc" is not accepted: a whole number 1-120/,
      );
      assertRefused(
        await upload(t.auth, [filePart(FILE), field('validityValue', '3'), field('validityUnit', 'week')]),
        /validityUnit: .*"hour"\|"day"\|"month"\|"year"/,
      );
      assertRefused(
        await upload(t.auth, [filePart(FILE), field('validityValue', '3')]),
        /validityValue and validityUnit go together/,
      );
      assertRefused(
        await upload(t.auth, [filePart(FILE), field('allowPartial', 'yes')]),
        /allowPartial: .*"true"\|"false"/,
      );
      assertRefused(
        await upload(t.auth, [filePart(FILE), field('overrideRule', 'overwrite')]),
        /overwrite replaces every rule of one OU/,
      );
      await h.deps.tenants.setParams(t.id, { dataIsolation: true });
      const { key } = await h.deps.keys.create(t.id, {
        role: 'agent',
        ous: ['sales'],
        permissions: ['rules:import'],
      });
      const other = await upload({ authorization: `Bearer ${key}` }, [filePart(FILE), field('ou', 'north')]);
      assert.equal(other.statusCode, 403, other.body);
      await assertNothingStarted(t);
    });

    it('a file over the size limit is refused with the limit and leaves nothing stored', async () => {
      const t = await tenant();
      const line = '14045550001,block\n';
      const big = `called,action\n${line.repeat(Math.ceil((64 * 1024 * 1024) / line.length) + 1)}`;
      const res = await upload(t.auth, [filePart(big)]);
      assert.equal(res.statusCode, 413, res.body);
      assert.match(res.json().message, /larger than the 64 MiB \(67,108,864 bytes\) accepted/);
      await assertNothingStarted(t);
    });

    it('an upload stream that fails part-way (over the size limit while arriving) leaves no stored chunk', async () => {
      const t = await tenant();
      const mib = Buffer.from(`${'14045550001,block\n'.repeat(58_255)}`);
      const failing = Readable.from(
        (async function* () {
          yield Buffer.from('called,action\n');
          for (let i = 0; i < 3; i++) yield mib;
          throw new Error('the upload is larger than accepted');
        })(),
      );
      await assert.rejects(h.jobs.service.stageUpload(t.id, failing), /larger than accepted/);
      assert.deepEqual(await h.redis.client().keys(`cg:{${t.id}}:job:*`), []);
    });

    it('fields after the file are applied to the job', async () => {
      const t = await tenant();
      const res = await upload(t.auth, [
        filePart(FILE),
        field('ou', 'sales'),
        field('overrideRule', 'override'),
        field('validityValue', '3'),
        field('validityUnit', 'day'),
      ]);
      assert.equal(res.statusCode, 202, res.body);
      const v = await finished(t.auth, res.json().id);
      assert.equal(v.state, 'completed');
      assert.deepEqual(v.source.params, {
        overrideRule: 'override',
        ou: 'sales',
        validity: { value: 3, unit: 'day' },
      });
      const rules = await get(t.auth, '/v1/rules');
      assert.equal(rules.items[0].ou, 'sales');
    });
  },
);
