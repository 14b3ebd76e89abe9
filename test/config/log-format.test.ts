import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture(): { lines: () => string[]; sink: Writable } {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  });
  return { lines: () => text.split('\n').filter(Boolean), sink };
}

test('pretty logs are one readable line a record, secrets still redacted; json stays JSON', () => {
  const pretty = capture();
  const log = createLogger('info', pretty.sink, 'pretty');
  log.warn(
    { role: 'ari', password: 'hunter2', err: new Error('boom\nsecond line') },
    'Asterisk ARI is not reachable',
  );
  log.info('callguard serving');
  const lines = pretty.lines();
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /WARN.*Asterisk ARI is not reachable/);
  assert.match(lines[0]!, /"err":"Error: boom second line"/, 'the error is on the line, in one line');
  assert.doesNotMatch(lines[0]!, /hunter2/);
  assert.throws(() => JSON.parse(lines[0]!));

  const json = capture();
  createLogger('info', json.sink, 'json').info({ role: 'api' }, 'callguard serving');
  assert.equal(JSON.parse(json.lines()[0]!).msg, 'callguard serving');
  // auto with a destination (not a terminal) is JSON
  const auto = capture();
  createLogger('info', auto.sink, 'auto').info('x');
  assert.equal(JSON.parse(auto.lines()[0]!).msg, 'x');
});
