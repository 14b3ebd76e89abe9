import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { tagLine } from '../../src/app/log-relay.js';

const from = { proc: 'call', roles: ['ari', 'esl'], pid: 42, stderr: true };

describe('the supervisor log stream', () => {
  it('passes a child logger line that names its process through unchanged', () => {
    const line = '{"level":30,"proc":"call","roles":["ari"],"msg":"role started"}';
    assert.equal(tagLine(line, from), line);
  });

  it('names the process in a JSON line that does not', () => {
    const out = JSON.parse(tagLine('{"level":40,"msg":"from a library"}', from));
    assert.deepEqual(out, { level: 40, msg: 'from a library', proc: 'call', roles: ['ari', 'esl'] });
  });

  it('wraps a crash stack trace on stderr into an error line naming the process', () => {
    const out = JSON.parse(tagLine('Error: Connection lost before handshake', from));
    assert.equal(out.level, 50);
    assert.equal(out.proc, 'call');
    assert.deepEqual(out.roles, ['ari', 'esl']);
    assert.equal(out.pid, 42);
    assert.equal(out.msg, 'Error: Connection lost before handshake');
    const info = JSON.parse(tagLine('{not json', { ...from, stderr: false }));
    assert.equal(info.level, 30);
    assert.equal(info.msg, '{not json');
  });
});
