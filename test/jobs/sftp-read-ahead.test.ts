import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { READ_CHUNK, READS_AHEAD } from '../../src/jobs/sftp-read-ahead.js';
import { SftpSession } from '../../src/jobs/sftp-session.js';
import { skipWithoutSshd, startSftp, type TestSftp } from './support/sftp-server.js';

/** Every byte of a stream; with `slow`, one chunk per macrotask (a consumer that falls behind). */
async function drain(stream: Readable, slow = false): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) {
    parts.push(chunk as Buffer);
    if (slow) await new Promise((r) => setImmediate(r));
  }
  return Buffer.concat(parts);
}

describe.skipIf(skipWithoutSshd)('file server reads with requests in flight', () => {
  let sftp: TestSftp;
  let session: SftpSession;
  beforeAll(async () => {
    sftp = await startSftp();
    session = await SftpSession.open({
      host: sftp.host,
      port: sftp.port,
      username: sftp.username,
      privateKey: sftp.privateKey,
      root: sftp.root,
    });
  });
  afterAll(async () => {
    session?.close();
    await sftp?.stop();
  });

  it('delivers every byte in file order, whatever the size against the request size', async () => {
    const sizes = [
      0,
      1,
      READ_CHUNK - 1,
      READ_CHUNK,
      READ_CHUNK + 1,
      READ_CHUNK * READS_AHEAD,
      READ_CHUNK * READS_AHEAD * 3 + 12_345,
    ];
    for (const size of sizes) {
      const bytes = randomBytes(size);
      writeFileSync(join(sftp.root, `f${size}.bin`), bytes);
      const read = await drain(await session.openRead('', `f${size}.bin`));
      assert.equal(read.length, size, `size ${size}`);
      assert.ok(read.equals(bytes), `bytes of the ${size}-byte file`);
    }
  });

  it('keeps the order when the reader is slower than the server', async () => {
    const bytes = randomBytes(READ_CHUNK * READS_AHEAD * 2 + 77);
    writeFileSync(join(sftp.root, 'slow.bin'), bytes);
    const read = await drain(await session.openRead('', 'slow.bin'), true);
    assert.ok(read.equals(bytes));
  });

  it('a reader that stops early closes the file, and the session reads on', async () => {
    const bytes = randomBytes(READ_CHUNK * READS_AHEAD * 2);
    writeFileSync(join(sftp.root, 'early.bin'), bytes);
    const stream = await session.openRead('', 'early.bin');
    for await (const _ of stream) break;
    assert.ok(stream.destroyed);
    const again = await drain(await session.openRead('', 'early.bin'));
    assert.ok(again.equals(bytes));
  });
});
