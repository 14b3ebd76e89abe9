import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { describe, it } from 'vitest';
import { errorHandler } from '../../src/api/http-errors.js';
import { eventually, memoryLogger } from '../support/memory-logger.js';

describe('the request-failed log line', () => {
  it('hides a key given in the query string (?key=, as EventSource clients must)', async () => {
    const logs = memoryLogger();
    const app = Fastify();
    app.setErrorHandler(errorHandler(logs.logger));
    app.get('/v1/agents/:agentId/events', async () => {
      throw new Error('Command timed out');
    });
    const res = await app.inject({ url: '/v1/agents/a1/events?key=cgk.acme.SECRETpart&lastEventId=1-0' });
    assert.equal(res.statusCode, 503);
    assert.ok(await eventually(() => logs.errors().length === 1));
    const line = JSON.stringify(logs.errors()[0]);
    assert.ok(!line.includes('SECRETpart'), line);
    assert.match(line, /"url":"\/v1\/agents\/a1\/events\?key=\[redacted\]&lastEventId=1-0"/);
    await app.close();
  });
});
