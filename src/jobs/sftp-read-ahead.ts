import { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';

/** Bytes per SFTP read request (below every server's read limit, so a reply is never split). */
export const READ_CHUNK = 64 * 1024;
/** Read requests kept in flight. */
export const READS_AHEAD = 16;

/**
 * A file on an SFTP server as a stream, read with READS_AHEAD requests in flight and delivered in
 * file order. ssh2's createReadStream keeps one request in flight, so a file comes at one chunk per
 * round trip (about 22 MB/s from a local OpenSSH server, 5.7 s for a 2,000,000-row rules file);
 * OpenSSH's sftp and ssh2's own fastGet pipeline their reads the same way. A short reply is read on
 * from where it stopped; a reply of no bytes is the end of the file. Errors (opening, reading) fail
 * the stream; the handle is closed when the stream ends or is destroyed.
 */
export function sftpReadAhead(sftp: SFTPWrapper, path: string): Readable {
  let handle: Buffer | undefined;
  /** File offset of the next request, and its index. */
  let requested = 0;
  /** Replies by request index, kept until the ones before them are delivered. */
  const replies = new Map<number, Buffer>();
  let delivered = 0;
  let inFlight = 0;
  /** Index of the request that met the end of the file (its bytes, if any, are the last). */
  let endAt = Number.POSITIVE_INFINITY;
  let wanted = false;

  /** Reads `length` bytes at `position`, going on after a short reply; fewer only at the end of the file. */
  const readAt = (
    position: number,
    length: number,
    done: (error: Error | undefined, data: Buffer) => void,
  ) => {
    const buffer = Buffer.allocUnsafe(length);
    let got = 0;
    const more = () => {
      if (!handle) return done(new Error('the file was closed'), buffer);
      sftp.read(handle!, buffer, got, length - got, position + got, (error, bytes) => {
        if (error) return done(error, buffer);
        got += bytes;
        if (bytes === 0 || got === length) return done(undefined, buffer.subarray(0, got));
        more();
      });
    };
    more();
  };

  const stream: Readable = new Readable({
    highWaterMark: READ_CHUNK * 4,
    construct(done) {
      sftp.open(path, 'r', (error, h) => {
        if (error) return done(error);
        handle = h;
        done();
      });
    },
    read() {
      wanted = true;
      fill();
    },
    destroy(error, done) {
      if (!handle) return done(error);
      const h = handle;
      handle = undefined;
      sftp.close(h, () => done(error));
    },
  });

  function fill(): void {
    while (wanted && handle && inFlight < READS_AHEAD && requested < endAt) {
      const index = requested++;
      inFlight++;
      readAt(index * READ_CHUNK, READ_CHUNK, (error, data) => {
        inFlight--;
        if (stream.destroyed) return;
        if (error) {
          stream.destroy(error);
          return;
        }
        if (data.length < READ_CHUNK) endAt = Math.min(endAt, index);
        replies.set(index, data);
        deliver();
      });
    }
  }

  function deliver(): void {
    for (let data = replies.get(delivered); data !== undefined; data = replies.get(delivered)) {
      replies.delete(delivered);
      const last = delivered === endAt;
      delivered++;
      if (data.length > 0) wanted = stream.push(data);
      if (last) {
        stream.push(null);
        return;
      }
    }
    fill();
  }

  return stream;
}
