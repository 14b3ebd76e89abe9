import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type JobsApi, startJobsApi } from './support/jobs-api.js';

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
  },
);
