import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Rule } from '../../src/domain/rule.js';
import { ruleInputSchema, toRule } from '../../src/domain/rule-input.js';
import type { BulkJobs } from '../../src/jobs/bulk-jobs.js';
import type { RuleRepository } from '../../src/store/rule-repository.js';
import { DEFAULT_TENANT_PARAMS, policyOf } from '../../src/store/tenant-params.js';
import { skipWithoutRedis, type TestRedis } from '../support/redis-server.js';
import { seedCatalog } from './support/catalog.js';
import { type JobWorkers, startJobWorkers } from './support/job-workers.js';

const has7z = (() => {
  try {
    execFileSync('7z', ['i'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const OUS = ['east', 'west'];
const GROUPS = ['dnc', 'vip'];
const TYPES = ['wrap', '=calc'];
const NOW = Date.UTC(2026, 0, 1);

// Text that CSV and spreadsheets treat specially: separators, quotes, line breaks, formula starters,
// the formula mark itself, and characters beyond ASCII (NUL excepted: a rules file is text).
const tricky = fc.constantFrom(
  ',',
  '"',
  "'",
  '\n',
  '\r\n',
  '\r',
  '=',
  '+',
  '-',
  '@',
  '\t',
  ' ',
  '#',
  'é',
  '號',
  '🙂',
  'a',
  '1',
);
const remarks = fc
  .string({ unit: fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 1 })), maxLength: 40 })
  .map((s) => s.replaceAll('\u0000', ''))
  .filter((s) => s !== '');
/** Names as the API stores them: trimmed, no control characters. */
const name = fc
  .string({
    unit: fc.constantFrom("'", '=', '+', '-', '@', ',', '"', 'x', 'é', ' ', '號'),
    minLength: 1,
    maxLength: 8,
  })
  .map((s) => s.trim())
  .filter((s) => s !== '');
const digits = fc.stringMatching(/^[1-9]\d{3,11}$/);
const pattern = fc.oneof(
  digits,
  digits.map((d) => `_${d}!`),
  digits.map((d) => `_${d}.`),
  digits.map((d) => `_${d.slice(0, 6)}XXX`),
);
const ruleInput = fc.record(
  {
    called: pattern,
    calling: fc.oneof(pattern, fc.constant('anonymous')),
    direction: fc.constantFrom('inbound', 'outbound', 'both'),
    action: fc.constantFrom('block', 'allow'),
    groupId: fc.constantFrom(...GROUPS),
    typeId: fc.constantFrom(...TYPES),
    ou: fc.constantFrom(...OUS),
    sbc: name,
    provider: name,
    customerGroup: name,
    user: name,
    callingCountry: fc.constantFrom('US', 'LV', 'DE'),
    remarks,
    expiresInS: fc.integer({ min: 1, max: 400 * 86_400 }),
  },
  { requiredKeys: ['direction', 'action'] },
);

/** A rule as the user sees it: everything but the id and the time it was written. */
const comparable = (r: Rule) => {
  const { id: _id, updatedAt: _u, ...rest } = r;
  return JSON.stringify(Object.fromEntries(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b))));
};

describe.skipIf(skipWithoutRedis || (has7z ? false : 'no 7z'))('export then import is lossless', () => {
  let w: JobWorkers;
  let redis: TestRedis;
  let client: Redis;
  let jobs: BulkJobs;
  let rules: RuleRepository;
  let work: string;

  beforeAll(async () => {
    w = await startJobWorkers('roundtrip');
    ({ redis, client, jobs, rules, work } = w);
  });
  afterAll(async () => {
    await w?.stop();
  });

  const all = async (tenant: string) => {
    const out: Rule[] = [];
    for await (const batch of rules.scan(tenant)) out.push(...batch);
    return out.map(comparable).sort();
  };

  /** Exports the tenant through the real job, opens the zip with 7-Zip, returns its CSV files' text. */
  async function exportCsv(tenant: string): Promise<string[]> {
    const password = 'Round@trip1';
    const id = await jobs.service.submitExport(tenant, { target: { mode: 'download' }, password }, 'u');
    const view = await jobs.service.waitFor(tenant, id, undefined, 60_000);
    assert.equal(view.state, 'completed', JSON.stringify(view.error));
    const chunks: Buffer[] = [];
    for await (const c of (await jobs.service.exportFile(tenant, id))!) chunks.push(c as Buffer);
    const zipPath = join(work, `${id}.zip`);
    writeFileSync(zipPath, Buffer.concat(chunks));
    const outDir = join(work, id);
    execFileSync('7z', ['x', `-p${password}`, `-o${outDir}`, zipPath], { stdio: 'ignore' });
    return readdirSync(outDir)
      .sort()
      .map((f) => readFileSync(join(outDir, f), 'utf8'));
  }

  it('any rule set comes back with the same fields and expiry instants', async () => {
    const policy = policyOf(DEFAULT_TENANT_PARAMS);
    await fc.assert(
      fc.asyncProperty(fc.array(ruleInput, { minLength: 1, maxLength: 6 }), async (inputs) => {
        const source = redis.tenant();
        const target = redis.tenant();
        for (const t of [source, target])
          await seedCatalog(client, t, { ous: OUS, groups: GROUPS, types: TYPES });
        const drafts = inputs.flatMap(({ expiresInS, ...input }) => {
          if (input.called === undefined && input.calling === undefined) return [];
          if (input.calling === 'anonymous' && input.called === undefined) return [];
          const rule = toRule(ruleInputSchema.parse(input), { id: 1, policy, now: NOW });
          const { id: _id, ...draft } = rule;
          return [{ ...draft, ...(expiresInS === undefined ? {} : { expiresAt: NOW + expiresInS * 1000 }) }];
        });
        fc.pre(drafts.length > 0);
        await rules.writeMany(source, drafts);
        const expected = await all(source);
        const files = await exportCsv(source);
        assert.equal(files.length, 1);
        const id = await jobs.service.submitUploadImport(target, Readable.from([files[0]!]), {}, 'u');
        const view = await jobs.service.waitFor(target, id, undefined, 60_000);
        assert.equal(view.state, 'completed', JSON.stringify(view.error));
        assert.equal(view.progress.failed, 0, `no row refused:\n${files[0]}`);
        assert.deepEqual(await all(target), expected);
      }),
      { numRuns: 20, seed: Number(process.env.CG_SEED ?? 1812), verbose: 1 },
    );
  });
});
