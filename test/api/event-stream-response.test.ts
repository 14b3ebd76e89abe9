import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'vitest';
import { openEventStream } from '../../src/api/routes/event-stream-response.js';

/** A real HTTP server whose one answer is an event stream; `serve` drives it. */
async function withStream(
  serve: (res: ServerResponse) => Promise<void>,
  client: (res: IncomingMessage) => void,
): Promise<void> {
  let served: Promise<void> | undefined;
  const server = createServer((_req, res) => {
    served = serve(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const req = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, client);
  req.on('error', () => undefined); // the server may drop the connection on purpose
  try {
    for (let i = 0; i < 100 && served === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    await served;
  } finally {
    req.destroy();
    server.closeAllConnections();
    server.close();
  }
}

describe('openEventStream', () => {
  it('sends the event-stream headers and the reconnect delay before any event', async () => {
    let head = '';
    let type: string | undefined;
    // The stream is torn down once the server is done: wait for the client to have read it all, or
    // a loaded machine tears it down before the answer arrives.
    let received: () => void = () => undefined;
    const readAll = new Promise<void>((resolve) => {
      received = resolve;
    });
    await withStream(
      async (res) => {
        const stream = openEventStream(res, () => undefined);
        stream.write('id: 1\ndata: {}\n\n');
        stream.end();
        await once(res, 'finish');
        await readAll;
      },
      (res) => {
        type = res.headers['content-type'];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          head += chunk;
        });
        res.on('end', received);
      },
    );
    assert.equal(type, 'text/event-stream; charset=utf-8');
    assert.ok(head.startsWith('retry: 2000\n\nid: 1\ndata: {}\n\n'), JSON.stringify(head.slice(0, 60)));
  });

  it('gives up on a client that stops reading once a megabyte waits unsent', async () => {
    let overflowed = false;
    let written = 0;
    await withStream(
      async (res) => {
        const stream = openEventStream(res, () => {
          overflowed = true;
          res.destroy();
        });
        const chunk = `data: ${'x'.repeat(64 * 1024)}\n\n`;
        // Bounded: 256 MB at most, far past any socket buffer.
        for (let i = 0; i < 4096 && !overflowed; i++) {
          stream.write(chunk);
          written += chunk.length;
          if (i % 16 === 15) await new Promise((r) => setImmediate(r));
        }
      },
      (res) => res.pause(),
    );
    assert.ok(overflowed, `no overflow after ${written} bytes`);
  });

  it('drops writes after the stream ended instead of raising an error on the response', async () => {
    const errors: Error[] = [];
    await withStream(
      async (res) => {
        res.on('error', (e) => errors.push(e));
        const stream = openEventStream(res, () => undefined);
        stream.end();
        stream.heartbeat();
        stream.write('id: 2\ndata: {}\n\n');
        await once(res, 'finish');
        await new Promise((r) => setImmediate(r));
      },
      (res) => res.resume(),
    );
    assert.deepEqual(errors, []);
  });
});
