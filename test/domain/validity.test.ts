import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import { expiresAtFor } from '../../src/domain/validity.js';

const at = (iso: string) => Date.parse(iso);

describe('validity', () => {
  it('adds hours and days exactly, at whole seconds', () => {
    assert.equal(
      expiresAtFor({ value: 1, unit: 'hour' }, at('2026-01-01T00:00:00.750Z')),
      at('2026-01-01T01:00:00Z'),
    );
    assert.equal(
      expiresAtFor({ value: 120, unit: 'day' }, at('2026-01-01T00:00:00Z')),
      at('2026-05-01T00:00:00Z'),
    );
  });

  it('adds calendar months and years, clamping to the end of shorter months', () => {
    assert.equal(
      expiresAtFor({ value: 1, unit: 'month' }, at('2026-01-31T10:00:00Z')),
      at('2026-02-28T10:00:00Z'),
    );
    assert.equal(
      expiresAtFor({ value: 1, unit: 'month' }, at('2028-01-31T10:00:00Z')),
      at('2028-02-29T10:00:00Z'),
    );
    assert.equal(
      expiresAtFor({ value: 3, unit: 'month' }, at('2026-11-15T00:00:00Z')),
      at('2027-02-15T00:00:00Z'),
    );
    assert.equal(
      expiresAtFor({ value: 1, unit: 'year' }, at('2028-02-29T00:00:00Z')),
      at('2029-02-28T00:00:00Z'),
    );
    assert.equal(
      expiresAtFor({ value: 79, unit: 'year' }, at('2026-06-01T00:00:00Z')),
      at('2105-06-01T00:00:00Z'),
    );
    // past the last second a rule stores, a validity ends there
    for (const value of [80, 120])
      assert.equal(
        expiresAtFor({ value, unit: 'year' }, at('2026-06-01T00:00:00Z')),
        at('2106-02-07T06:28:15Z'),
      );
  });

  it('refuses values outside 1..120 and unknown units', () => {
    for (const bad of [
      { value: 0, unit: 'day' },
      { value: 121, unit: 'day' },
      { value: 1.5, unit: 'day' },
      { value: 1, unit: 'week' },
    ]) {
      assert.throws(
        () => expiresAtFor(bad as never, Date.now()),
        (e: unknown) =>
          e instanceof CallguardError && e.code === 'CG_ERR_VALIDITY_INVALID' && /1-120/.test(e.message),
      );
    }
  });
});
