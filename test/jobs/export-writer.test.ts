import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { BlobReader, TextWriter, ZipReader } from '@zip.js/zip.js';
import { describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import type { Rule } from '../../src/domain/rule.js';
import { checkExportPassword } from '../../src/jobs/export-password.js';
import { writeEncryptedExport } from '../../src/jobs/export-writer.js';

const rule = (id: number, extra: Partial<Rule> = {}): Rule => ({
  id,
  called: String(1000 + id),
  direction: 'both',
  action: 'block',
  updatedAt: 1_800_000_000_000,
  ...extra,
});

async function* batches(rules: Rule[], size = 2): AsyncGenerator<Rule[]> {
  for (let i = 0; i < rules.length; i += size) yield rules.slice(i, i + size);
}

function sink(): { stream: Writable; bytes: () => Buffer } {
  const parts: Buffer[] = [];
  return {
    stream: new Writable({
      write(chunk, _e, done) {
        parts.push(chunk);
        done();
      },
    }),
    bytes: () => Buffer.concat(parts),
  };
}

describe('writeEncryptedExport', () => {
  it('splits into CSV files of at most partRecords records, each with the header', async () => {
    const out = sink();
    const rules = Array.from({ length: 7 }, (_, i) => rule(i + 1, i === 0 ? { ou: 'a' } : { ou: 'b' }));
    const r = await writeEncryptedExport(batches(rules), { ou: 'b' }, 'Passw0rd@', out.stream, {
      partRecords: 3,
    });
    assert.deepEqual(r, { records: 6, files: 2 });
    const reader = new ZipReader(new BlobReader(new Blob([new Uint8Array(out.bytes())])), {
      password: 'Passw0rd@',
    });
    const entries = await reader.getEntries();
    assert.deepEqual(
      entries.map((e) => e.filename),
      ['rules-001.csv', 'rules-002.csv'],
    );
    const texts = await Promise.all(
      entries.map((e) => (e as { getData: (w: TextWriter) => Promise<string> }).getData(new TextWriter())),
    );
    assert.equal(texts[0]!.split('\r\n').filter(Boolean).length, 4);
    assert.equal(texts[1]!.split('\r\n').filter(Boolean).length, 4);
    assert.match(texts[0]!, /^id,called,calling,direction,action,group,type,ou,/);
    await reader.close();
  });

  it('refuses a selection over the limit with the full count and a hint', async () => {
    const rules = Array.from({ length: 7 }, (_, i) => rule(i + 1));
    await assert.rejects(
      writeEncryptedExport(batches(rules), {}, 'Passw0rd@', sink().stream, { limit: 5 }),
      (e: unknown) =>
        e instanceof CallguardError &&
        e.code === 'CG_ERR_LIMIT_EXCEEDED' &&
        /selects 7 rules; an export holds at most 5\. Narrow the filter/.test(e.message),
    );
  });

  it('accepts exactly the passwords the rule allows', () => {
    for (const ok of ['Abcdef1@', 'abc123_xyz', 'A1?=.*zzzzzz', 'x1.yyyyy'])
      assert.equal(checkExportPassword(ok), ok);
    for (const bad of [
      'Abcde1@',
      'Abcdefghij1@x',
      'Abcdefg12',
      'abcdefg@@',
      '1234567@',
      'Abc 1234@',
      'Abc-1234@',
      undefined,
    ]) {
      assert.throws(() => checkExportPassword(bad), /8 to 12 characters/, String(bad));
    }
  });
});
