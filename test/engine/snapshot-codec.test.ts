import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import type { CallContext } from '../../src/domain/call-context.js';
import { CallguardError } from '../../src/domain/errors.js';
import type { Rule } from '../../src/domain/rule.js';
import { DecisionEngine } from '../../src/engine/decision-engine.js';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_FORMAT_VERSION } from '../../src/engine/snapshot-codec.js';

const T = 1_800_000_000_000;
/** A decision as a user sees it (API JSON). */
const plain = (d: unknown) => JSON.parse(JSON.stringify(d));
const rules: Rule[] = [
  { id: 1, called: '_3712!', direction: 'both', action: 'block', typeId: 'wrap', updatedAt: T },
  { id: 2, called: '37120000000', direction: 'both', action: 'allow', updatedAt: T },
  { id: 3, called: '_14045266XXX', direction: 'outbound', action: 'block', groupId: 'g1', updatedAt: T },
  { id: 4, calling: 'anonymous', direction: 'inbound', action: 'block', updatedAt: T },
  {
    id: 5,
    calling: '18005550199',
    direction: 'inbound',
    action: 'block',
    expiresAt: T + 3600_000,
    updatedAt: T,
  },
  {
    id: 6,
    called: '14045266123',
    calling: '_1800!',
    direction: 'inbound',
    action: 'block',
    user: 'alice',
    updatedAt: T,
  },
];
const options = {
  types: [{ id: 'wrap', name: 'Wrap', operation: 'auto_wrap_up', businessResult: 'DNC' } as const],
  bindings: [['task-7', ['g1']]] as [string, string[]][],
  defaultAction: 'allow' as const,
};
const calls: CallContext[] = [
  { called: '37121234567', calling: '1', direction: 'outbound', at: T },
  { called: '37120000000', calling: '1', direction: 'outbound', at: T },
  { called: '14045266001', calling: '1', direction: 'outbound', task: 'task-7', at: T },
  { called: '14045266001', calling: '1', direction: 'outbound', at: T },
  { called: '1', calling: 'anonymous', direction: 'inbound', at: T },
  { called: '1', calling: '18005550199', direction: 'inbound', at: T },
  { called: '1', calling: '18005550199', direction: 'inbound', at: T + 3600_000 },
  { called: '14045266123', calling: '18001234567', direction: 'inbound', user: 'alice', at: T },
];

describe('rule snapshot', () => {
  it('decodes to an engine that decides every call exactly as the original', () => {
    const engine = DecisionEngine.fromRules(rules, options);
    const snap = encodeSnapshot(engine, { version: '1700000000000-0', createdAt: 42 });
    const decoded = decodeSnapshot(snap);
    assert.equal(decoded.version, '1700000000000-0');
    assert.equal(decoded.createdAt, 42);
    for (const call of calls)
      assert.deepEqual(plain(decoded.engine.decide(call)), plain(engine.decide(call)));
    assert.deepEqual([...decoded.engine.rules()].map((r) => r.id).sort(), [1, 2, 3, 4, 5, 6]);
  });

  it('folds pending deltas into the snapshot', () => {
    const engine = DecisionEngine.fromRules(rules, options).withChanges({
      deletes: [2],
      upserts: [{ id: 7, called: '_3712345!', direction: 'both', action: 'allow', updatedAt: T }],
    });
    const decoded = decodeSnapshot(encodeSnapshot(engine, { version: 'v' })).engine;
    assert.equal(decoded.overlaySize, 0);
    for (const call of [
      ...calls,
      { called: '37123456789', calling: '1', direction: 'inbound', at: T } as const,
    ]) {
      assert.deepEqual(plain(decoded.decide(call)), plain(engine.decide(call)));
    }
  });

  it('decodes from an unaligned buffer', () => {
    const snap = encodeSnapshot(DecisionEngine.fromRules(rules, options), { version: 'v' });
    const shifted = Buffer.alloc(snap.length + 3);
    snap.copy(shifted, 3);
    const decoded = decodeSnapshot(shifted.subarray(3)).engine;
    assert.equal(decoded.decide(calls[0]).rule?.id, 1);
  });

  it('refuses a snapshot of an older format instead of reading it with the new layout', () => {
    const snap = encodeSnapshot(DecisionEngine.fromRules(rules, options), { version: 'v' });
    const older = Buffer.from(snap);
    older.writeUInt32LE(SNAPSHOT_FORMAT_VERSION - 1, 8);
    assert.throws(
      () => decodeSnapshot(older),
      (e: unknown) =>
        e instanceof CallguardError &&
        e.code === 'CG_ERR_SNAPSHOT_CORRUPT' &&
        e.message.includes(`format version ${SNAPSHOT_FORMAT_VERSION - 1}`),
    );
  });

  it('refuses every truncation and every flipped byte with CG_ERR_SNAPSHOT_CORRUPT', () => {
    const snap = encodeSnapshot(DecisionEngine.fromRules(rules, options), { version: 'v' });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: snap.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        (at, xor) => {
          const flipped = Buffer.from(snap);
          flipped[at] ^= xor;
          assert.throws(
            () => decodeSnapshot(flipped),
            (e: unknown) => e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT',
          );
          assert.throws(
            () => decodeSnapshot(snap.subarray(0, at)),
            (e: unknown) => e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT',
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses a checksummed snapshot whose scoped rule lost its scope flag (it would apply to every caller)', () => {
    const engine = DecisionEngine.fromRules(rules, options);
    const snap = encodeSnapshot(engine, { version: 'v' });
    const headerLength = snap.readUInt32LE(12);
    const header = JSON.parse(snap.subarray(48, 48 + headerLength).toString('utf8'));
    const rows = header.sections.find((s: { name: string }) => s.name === 'general.rows');
    const bodyStart = (48 + headerLength + 7) & ~7;
    const forged = Buffer.from(snap);
    // Rule 6 (user alice) is the only scoped general rule: clear bit 3 of its row's first word.
    let cleared = 0;
    for (let r = 0; r < header.generalCount; r++) {
      const at = bodyStart + rows.offset + r * 16;
      const word = forged.readUInt32LE(at);
      if ((word & 8) !== 0) {
        forged.writeUInt32LE(word & ~8, at);
        cleared++;
      }
    }
    assert.equal(cleared, 1);
    createHash('sha256').update(forged.subarray(48)).digest().copy(forged, 16);
    assert.throws(
      () => decodeSnapshot(forged),
      (e: unknown) =>
        e instanceof CallguardError && e.code === 'CG_ERR_SNAPSHOT_CORRUPT' && /malformed/.test(e.message),
    );
    // Unforged, the same bytes decode and the rule still needs its user.
    const decoded = decodeSnapshot(snap).engine;
    const call = calls[7] as CallContext;
    assert.equal(decoded.decide(call).ruleId, 6);
    assert.equal(
      decoded.decide({ ...call, user: 'bob' }).ruleId,
      engine.decide({ ...call, user: 'bob' }).ruleId,
    );
    assert.notEqual(decoded.decide({ ...call, user: 'bob' }).ruleId, 6);
  });
});
