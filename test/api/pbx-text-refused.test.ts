// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is FreeSWITCH syntax under test, not a template
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { skipWithoutRedis } from '../support/redis-server.js';
import { type ApiHarness, startApi } from './api-harness.js';

describe.skipIf(skipWithoutRedis)(
  'API: text that reaches the PBX is refused when the PBX would not keep it',
  () => {
    let h: ApiHarness;
    let key: string;
    beforeAll(async () => {
      h = await startApi();
      key = (await h.tenant('pbxtext')).admin;
    });
    afterAll(async () => {
      await h?.stop();
    });

    it('businessResult with ${, a backslash, a single quote or a line break: 400 naming the field and the rule', async () => {
      for (const businessResult of ['Y=${strftime(%Y)}', 'x $${hostname}', 'a\\b', "don't", 'two\nlines']) {
        for (const body of [
          { name: 'W', operation: 'auto_wrap_up', businessResult },
          { name: 'P', operation: 'pop_up', promptContent: 'p', jumpAddress: 'j', businessResult },
        ]) {
          const res = await h.call('PUT', '/v1/types/t', key, body);
          assert.equal(res.statusCode, 400, `${JSON.stringify(businessResult)}: ${res.body}`);
          const { message } = res.json() as { message: string };
          assert.match(message, /businessResult/);
          assert.match(message, /without "\$\{", backslashes, single quotes or control characters/);
        }
      }
    });

    it('everything else is stored and read back as typed', async () => {
      const businessResult = 'Don"t call: 50% off; a=b, (c) & d! $5 {z} Ünïcode ✓';
      const put = await h.call('PUT', '/v1/types/ok', key, {
        name: 'W',
        operation: 'auto_wrap_up',
        businessResult,
      });
      assert.equal(put.statusCode, 200, put.body);
      const got = await h.call('GET', '/v1/types/ok', key);
      assert.equal(got.json().businessResult, businessResult);
    });
  },
);
