import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { CallguardError } from '../../src/domain/errors.js';
import { FileServerHostPolicy } from '../../src/jobs/file-server-hosts.js';
import { SftpSession } from '../../src/jobs/sftp-session.js';
import { SecretBox } from '../../src/secret-box.js';
import { FileServerRepository } from '../../src/store/file-server-repository.js';
import { bulkKeys } from '../../src/store/keys.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { skipWithoutSshd, startSftp, type TestSftp } from './support/sftp-server.js';

const fails = (code: string, pattern: RegExp) => (e: unknown) => {
  assert.ok(e instanceof CallguardError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, pattern);
  return true;
};

describe.skipIf(skipWithoutRedis || skipWithoutSshd)(
  'file servers: operator allowlist, pinned host keys, no temp file through a link',
  () => {
    let redis: TestRedis;
    let a: TestSftp;
    let b: TestSftp;
    const secrets = new SecretBox(Buffer.alloc(32, 7));
    const repo = (hosts?: string) =>
      new FileServerRepository(redis.client(), secrets, FileServerHostPolicy.parse(hosts));
    const input = (s: TestSftp, host = s.host) => ({
      name: 'fs',
      host,
      port: s.port,
      username: s.username,
      privateKey: s.privateKey,
      root: s.root,
    });

    beforeAll(async () => {
      redis = await startRedis();
      [a, b] = await Promise.all([startSftp(), startSftp()]);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await redis?.stop();
    });

    it('refuses a host outside CALLGUARD_FILE_SERVER_HOSTS at registration, names included after DNS', async () => {
      const t = redis.tenant('allow');
      const tight = repo('10.20.0.0/16, sftp.example.com');
      await assert.rejects(
        tight.create(t, input(a)),
        fails('CG_ERR_FORBIDDEN', /127\.0\.0\.1 is not one the operator allows/),
      );
      await assert.rejects(
        tight.create(t, input(a, 'localhost')),
        fails('CG_ERR_FORBIDDEN', /localhost \(.+\)/),
      );
      assert.ok(await repo('127.0.0.0/8').create(t, input(a)));
      assert.ok(await repo('localhost').create(t, input(a, 'localhost')), 'a listed name is allowed as such');
      assert.throws(() => FileServerHostPolicy.parse('10.0.0.0/99'), /CIDR/);
    });

    it('checks the host again at connect time: a server registered before the list was tightened is refused', async () => {
      const t = redis.tenant('connect');
      const fs = await repo().create(t, input(a));
      await assert.rejects(
        SftpSession.open(await repo('10.0.0.0/8').target(t, fs.id)),
        fails('CG_ERR_FORBIDDEN', /CALLGUARD_FILE_SERVER_HOSTS/),
      );
    });

    it('pins the host key on first use, shows it as a SHA-256 fingerprint, and refuses a changed key naming both', async () => {
      const t = redis.tenant('tofu');
      const r = repo();
      const fs = await r.create(t, input(a));
      assert.equal(fs.hostKeySha256, undefined);
      (await SftpSession.open(await r.target(t, fs.id))).close();
      const pinned = (await r.get(t, fs.id))!.hostKeySha256!;
      assert.match(pinned, /^SHA256:[A-Za-z0-9+/]{43}$/);
      (await SftpSession.open(await r.target(t, fs.id))).close();

      // The same address now answers with another key (server B stands in for a replaced host).
      const key = bulkKeys(t).fileServers;
      const stored = JSON.parse((await redis.client().hget(key, fs.id))!);
      await redis.client().hset(key, fs.id, JSON.stringify({ ...stored, port: b.port }));
      let presented = '';
      await assert.rejects(SftpSession.open(await r.target(t, fs.id)), (e: unknown) => {
        fails('CG_ERR_CONFLICT', /presented host key SHA256:\S+, but SHA256:\S+ is pinned/)(e);
        const m = /presented host key (SHA256:\S+), but (SHA256:\S+) is pinned/.exec((e as Error).message)!;
        presented = m[1]!.replace(/,$/, '');
        assert.equal(m[2], pinned);
        return true;
      });
      assert.notEqual(presented, pinned);
      assert.equal((await r.get(t, fs.id))!.hostKeySha256, pinned, 'the pinned key is not replaced');
    });

    it('accepts a key given at registration only from that server', async () => {
      const t = redis.tenant('given');
      const r = repo();
      const probe = await r.create(t, input(b));
      (await SftpSession.open(await r.target(t, probe.id))).close();
      const bKey = (await r.get(t, probe.id))!.hostKeySha256!;
      const fs = await r.create(t, { ...input(a), hostKeySha256: bKey });
      await assert.rejects(SftpSession.open(await r.target(t, fs.id)), fails('CG_ERR_CONFLICT', /is pinned/));
    });

    it('never writes an upload through a link placed under the temporary name', async () => {
      const t = redis.tenant('link');
      const r = repo();
      const fs = await r.create(t, input(a));
      const victim = join(a.outside, 'victim.txt');
      writeFileSync(victim, 'original');
      for (const guess of ['.out.csv.part', '.out.csv.tmp']) symlinkSync(victim, join(a.root, guess));
      const session = await SftpSession.open(await r.target(t, fs.id));
      try {
        const { stream, commit } = await session.openWrite('', 'out.csv');
        await pipeline(Readable.from(['data']), stream);
        await commit();
      } finally {
        session.close();
      }
      assert.equal(readFileSync(victim, 'utf8'), 'original');
      assert.equal(readFileSync(join(a.root, 'out.csv'), 'utf8'), 'data');
    });
  },
);
