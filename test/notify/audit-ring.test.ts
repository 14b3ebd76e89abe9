import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { AuditRing } from '../../src/notify/audit-ring.js';

describe('audit ring', () => {
  const push = (ring: AuditRing, n: number) =>
    ring.push(
      't1',
      1000 + n,
      `c${n}`,
      n % 2 ? 'inbound' : 'outbound',
      `1${n}`,
      `2${n}`,
      n % 3 ? 'task' : '',
      n % 2 === 0,
      n,
      0,
      1,
      n % 2 ? `agent-${n}` : '',
    );

  it('gives records back oldest first with every field, and keeps the newest when full', () => {
    const ring = new AuditRing(3, 'node-a');
    for (let i = 1; i <= 5; i++) push(ring, i);
    assert.equal(ring.size, 3);
    assert.equal(ring.dropped, 2);
    const out = ring.drain();
    assert.deepEqual(
      out.map((r) => r.callId),
      ['c3', 'c4', 'c5'],
    );
    assert.deepEqual(out[1], {
      tenant: 't1',
      at: 1004,
      callId: 'c4',
      direction: 'outbound',
      called: '14',
      calling: '24',
      task: 'task',
      action: 'block',
      rule: 4,
      basis: 'rule',
      operation: 'auto_wrap_up',
      node: 'node-a',
      agent: '',
    });
    assert.equal(ring.size, 0);
  });

  it('puts unwritten records back in front of newer ones, dropping the oldest beyond the capacity', () => {
    const ring = new AuditRing(4, 'n');
    push(ring, 1);
    push(ring, 2);
    const failed = ring.drain();
    push(ring, 3);
    push(ring, 4);
    push(ring, 5);
    ring.unshift(failed);
    assert.equal(ring.dropped, 1);
    assert.deepEqual(
      ring.drain().map((r) => r.callId),
      ['c2', 'c3', 'c4', 'c5'],
    );
  });
});
