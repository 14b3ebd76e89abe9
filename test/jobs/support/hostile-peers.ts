import { connect, createServer, type Server, type Socket } from 'node:net';

/** A loopback TCP server standing in for a file server that misbehaves; stop() closes it and its sockets. */
export interface HostilePeer {
  readonly port: number;
  stop(): Promise<void>;
}

async function listen(onSocket: (s: Socket) => void): Promise<HostilePeer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Not SSH: answers every connection with an HTTP error page and some binary noise, then closes. */
export const garbagePeer = () =>
  listen((s) => {
    s.end(
      Buffer.concat([
        Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
        Buffer.from([0, 255, 1, 254, 13, 10, 0, 0, 7]),
      ]),
    );
  });

/** Accepts TCP and never says a word. */
export const silentPeer = () => listen(() => undefined);

/**
 * A TCP proxy in front of a real sshd that passes `budget` bytes from the server and then either
 * cuts both connections (`cut`) or stops forwarding while keeping them open (`stall`): a file server
 * that drops or hangs mid-file.
 */
export const mangledProxy = (target: number, budget: number, mode: 'cut' | 'stall') =>
  listen((client) => {
    const upstream = connect(target, '127.0.0.1');
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    let passed = 0;
    upstream.on('data', (chunk: Buffer) => {
      if (passed >= budget) return;
      passed += chunk.length;
      client.write(chunk);
      if (passed >= budget) {
        if (mode === 'cut') {
          client.destroy();
          upstream.destroy();
        } else {
          client.unpipe(upstream);
        }
      }
    });
  });
