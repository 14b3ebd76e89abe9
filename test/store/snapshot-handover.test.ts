import assert from 'node:assert/strict';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { CallContext } from '../../src/domain/call-context.js';
import { CallguardError } from '../../src/domain/errors.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT_VERSION } from '../../src/engine/snapshot-codec.js';
import {
  adoptSnapshot,
  packedStringsOf,
  prepareHandover,
  type SnapshotHandover,
} from '../../src/store/snapshot-handover.js';

const T = 1_800_000_000_000;
const plain = (d: unknown) => JSON.parse(JSON.stringify(d));

/** What a postMessage from the reader thread delivers: a structured clone, the typed arrays moved. */
function overTheWire(bytes: Uint8Array, handover: SnapshotHandover) {
  const moved =
    'ends' in handover ? [bytes.buffer, handover.ends.buffer, handover.held.buffer] : [bytes.buffer];
  return structuredClone({ bytes, handover }, { transfer: moved as ArrayBuffer[] });
}

/** Scoped pattern rules: every scope value and prefix lands in the snapshot's string table. */
function scopedRules(values: readonly string[]): Rule[] {
  return values.flatMap((v, i): Rule[] => [
    { id: 3 * i + 1, called: `_1${i}!`, direction: 'both', action: 'block', user: v, updatedAt: T },
    { id: 3 * i + 2, called: `_2${i}!`, direction: 'inbound', action: 'block', sbc: v, updatedAt: T },
    {
      id: 3 * i + 3,
      calling: `_3${i}!`,
      direction: 'outbound',
      action: 'allow',
      provider: v,
      customerGroup: `${v}-cg`,
      updatedAt: T,
    },
  ]);
}

function callsFor(values: readonly string[]): CallContext[] {
  return values.flatMap((v, i): CallContext[] => [
    { called: `1${i}555`, calling: '9', direction: 'inbound', user: v, at: T },
    { called: `1${i}555`, calling: '9', direction: 'inbound', user: `${v}x`, at: T },
    { called: `2${i}555`, calling: '9', direction: 'inbound', sbc: v, at: T },
    { called: '9', calling: `3${i}555`, direction: 'outbound', provider: v, customerGroup: `${v}-cg`, at: T },
    { called: '9', calling: `3${i}555`, direction: 'outbound', provider: v, at: T },
  ]);
}

describe('handing a checked snapshot over from the reader thread', () => {
  it('adopts to the same index and decisions as a decode on this thread, whatever the strings', async () => {
    // Any printable text, astral characters (surrogate pairs) included; distinct values.
    const value = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 12 })
      .filter((s) => s.trim() === s && s.length > 0);
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(value, { minLength: 1, maxLength: 30 }), async (values) => {
        const engine = DecisionEngine.fromRules(scopedRules(values), { defaultAction: 'allow' });
        const bytes = encodeSnapshot(engine, { version: '1-0' });
        const here = decodeSnapshot(bytes);
        const handover = prepareHandover(new Uint8Array(bytes));
        assert.ok('header' in handover, JSON.stringify(handover));
        assert.deepEqual(handover.header.strings, [], 'the strings travel packed, not in the header');
        const { decoded } = await adoptSnapshot(overTheWire(new Uint8Array(bytes), handover));
        assert.deepEqual(decoded.engine.base.parts.strings, here.engine.base.parts.strings);
        assert.equal(decoded.version, '1-0');
        for (const call of callsFor(values)) {
          assert.deepEqual(
            plain(decoded.engine.decide(call)),
            plain(engine.decide(call)),
            JSON.stringify(call),
          );
        }
      }),
      { numRuns: 40 },
    );
  });

  it('takes the strings the index in use already has, and only those, and decides as a fresh decode', async () => {
    // A long value is made again, never reused (it would keep the previous text alive).
    const long = 'a-scope-value-of-many-characters';
    const before = ['alpha', 'beta', 'gamma', 'zoë', 'δέλτα', long];
    const after = ['gamma', 'new-one', 'alpha', 'zoë', 'ε', long];
    const first = encodeSnapshot(DecisionEngine.fromRules(scopedRules(before), {}), { version: '1-0' });
    const adopted = await adoptSnapshot(
      overTheWire(new Uint8Array(first), prepareHandover(new Uint8Array(first))),
    );
    const held = adopted.decoded.engine.base.parts.strings;
    assert.equal(adopted.reused, 0);
    const packed = packedStringsOf(held);
    assert.ok(packed, 'the adopted strings are remembered packed for the next read');

    const engine = DecisionEngine.fromRules(scopedRules(after), {});
    const second = encodeSnapshot(engine, { version: '2-0' });
    const again = await adoptSnapshot(
      overTheWire(new Uint8Array(second), prepareHandover(new Uint8Array(second), structuredClone(packed))),
      held,
    );
    const strings = again.decoded.engine.base.parts.strings;
    assert.deepEqual(strings, decodeSnapshot(second).engine.base.parts.strings);
    const shared = strings.filter((s) => s.length < 13 && held.includes(s));
    assert.ok(strings.includes(long) && held.includes(long));
    assert.ok(shared.length >= 3, `${shared.length} shared strings`);
    assert.equal(again.reused, shared.length);
    for (const call of callsFor(after)) {
      assert.deepEqual(
        plain(again.decoded.engine.decide(call)),
        plain(engine.decide(call)),
        JSON.stringify(call),
      );
    }
    // Positions found against other strings than those passed: nothing wrong is taken.
    const other = await adoptSnapshot(
      overTheWire(new Uint8Array(second), prepareHandover(new Uint8Array(second), structuredClone(packed))),
      held.map((s) => `${s}?`),
    );
    assert.equal(other.reused, 0);
    assert.deepEqual(other.decoded.engine.base.parts.strings, strings);
  });

  it('refuses corrupt bytes on the thread, and adopting them throws CG_ERR_SNAPSHOT_CORRUPT', async () => {
    const engine = DecisionEngine.fromRules(scopedRules(['a', 'b']), {});
    const bytes = new Uint8Array(encodeSnapshot(engine, { version: '1-0' }));
    bytes[bytes.length - 5] ^= 0x40;
    const handover = prepareHandover(bytes);
    assert.ok('corrupt' in handover);
    assert.match(handover.corrupt, /checksum mismatch/);
    await assert.rejects(
      adoptSnapshot(overTheWire(bytes, handover)),
      (e: unknown) =>
        e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT' && /checksum/.test(e.message),
    );
  });

  it('refuses a snapshot of another format version on the thread (the node then rebuilds)', async () => {
    const bytes = new Uint8Array(encodeSnapshot(DecisionEngine.fromRules([], {}), { version: '1-0' }));
    new DataView(bytes.buffer).setUint32(8, 99, true);
    const handover = prepareHandover(bytes);
    assert.ok('corrupt' in handover);
    assert.match(
      handover.corrupt,
      new RegExp(`format version 99, this build reads ${SNAPSHOT_FORMAT_VERSION}`),
    );
  });

  it('decodes bytes read without a thread in full, checks included', async () => {
    const engine = DecisionEngine.fromRules(scopedRules(['x']), {});
    const bytes = encodeSnapshot(engine, { version: '2-0' });
    assert.equal((await adoptSnapshot({ bytes })).decoded.version, '2-0');
    bytes[60] ^= 1;
    await assert.rejects(
      adoptSnapshot({ bytes }),
      (e: unknown) => e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT',
    );
  });
});
