import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import {
  ANONYMOUS,
  countryOfNumber,
  normalizeCallingNumber,
  normalizeNumber,
  stripNumber,
} from '../../src/domain/number.js';

const US = { mode: 'e164', defaultCountry: 'US' } as const;
const LV = { mode: 'e164', defaultCountry: 'LV' } as const;

describe('number normalisation', () => {
  it('makes +1, 1 and 10-digit forms of one US number equal under e164', () => {
    for (const form of ['+1 404 526 6123', '1-404-526-6123', '(404) 526-6123', '404.526.6123']) {
      assert.equal(normalizeNumber(form, US), '14045266123', form);
    }
  });

  it('completes national numbers with the tenant country and keeps international ones', () => {
    assert.equal(normalizeNumber('21234567', LV), '37121234567');
    assert.equal(normalizeNumber('+37121234567', US), '37121234567');
  });

  it('keeps short codes and service codes as dialled', () => {
    assert.equal(normalizeNumber('911', US), '911');
    assert.equal(normalizeNumber('*67', US), '*67');
    assert.equal(normalizeNumber('#31#', US), '#31#');
  });

  it('compares as dialled under the digits policy', () => {
    assert.equal(normalizeNumber('(404) 526-6123', { mode: 'digits' }), '4045266123');
  });

  it('treats missing, withheld and all-zero caller ids as anonymous (separators alone are no caller id)', () => {
    for (const cid of [
      undefined,
      '',
      '  ',
      'anonymous',
      'Restricted',
      'UNKNOWN',
      '0000000000',
      '0',
      '+',
      ' - ',
      '()',
    ]) {
      assert.equal(normalizeCallingNumber(cid, US), ANONYMOUS, String(cid));
    }
    assert.equal(normalizeCallingNumber('alice', US), '');
  });

  it('refuses letters and over-long numbers with the accepted form', () => {
    assert.throws(
      () => stripNumber('12a4'),
      (e: unknown) => e instanceof CallguardError && /0-9 \* #/.test(e.message),
    );
    assert.throws(
      () => stripNumber('1'.repeat(33)),
      (e: unknown) => e instanceof CallguardError && /at most 32/.test(e.message),
    );
  });

  it('derives the calling country from E.164 digits', () => {
    assert.equal(countryOfNumber('37121234567'), 'LV');
    assert.equal(countryOfNumber('442079460000'), 'GB');
    assert.equal(countryOfNumber(ANONYMOUS), undefined);
  });
});
