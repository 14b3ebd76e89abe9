import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../src/notify/webhook-signature.js';

describe('webhook signature', () => {
  const secret = 'whsec-0123456789abcdef';
  const body = '{"id":"e1","type":"agent.popup"}';

  it('verifies what it signs', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
    assert.equal(verifySignature(secret, body, header, 1_700_000_010), true);
  });

  it('refuses a changed body, another secret, a missing header and an old timestamp', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    assert.equal(verifySignature(secret, `${body} `, header, 1_700_000_000), false);
    assert.equal(verifySignature('another-secret-xxxxxxxx', body, header, 1_700_000_000), false);
    assert.equal(verifySignature(secret, body, undefined, 1_700_000_000), false);
    assert.equal(verifySignature(secret, body, header, 1_700_000_000 + 301), false);
    assert.equal(verifySignature(secret, body, 't=1700000000,v1=zz', 1_700_000_000), false);
  });
});
