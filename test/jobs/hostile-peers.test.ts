import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type BulkJobs, createBulkJobs } from '../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../src/log.js';
import { RuleRepository } from '../../src/store/rule-repository.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';
import { garbagePeer, type HostilePeer, mangledProxy, silentPeer } from './support/hostile-peers.js';
import { skipWithoutSshd, startSftp, type TestSftp } from './support/sftp-server.js';

const STORE = { streamMaxLen: 10_000, snapshotEvery: 10_000 };
const SECRET = 'test-secret-key-0123456789';
const TIMEOUT_MS = 2_000;
const ATTEMPTS = 2;

const rulesFile = (count: number, start: number) => {
  const lines = ['called,direction,action,remarks'];
  for (let i = 0; i < count; i++) lines.push(`${start + i},outbound,block,a remark to make the file longer`);
  return `${lines.join('\n')}\n`;
};

/**
 * File servers that are not SSH, hang, or drop mid-file: each import fails with a clear error in the
 * task view after a bounded number of attempts, and this process (which runs the job workers, with
 * no process-level safety net) stays up and imports from a good server afterwards.
 */
describe.skipIf(skipWithoutRedis || skipWithoutSshd)('imports from hostile file servers', () => {
  let redis: TestRedis;
  let sftp: TestSftp;
  let client: Redis;
  let jobs: BulkJobs;
  let work: string;
  const peers: HostilePeer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    sftp = await startSftp();
    client = redis.client();
    work = mkdtempSync(join(tmpdir(), 'cg-hostile-'));
    jobs = createBulkJobs(
      {
        REDIS_URL: redis.url,
        CALLGUARD_DATA_DIR: work,
        CALLGUARD_JOB_CONCURRENCY: 2,
        CALLGUARD_JOB_FILE_TTL_HOURS: 1,
        CALLGUARD_SECRET_KEY: SECRET,
        CALLGUARD_JOB_ATTEMPTS: ATTEMPTS,
        CALLGUARD_SFTP_TIMEOUT_MS: TIMEOUT_MS,
      },
      client,
      STORE,
      silentLogger,
    );
    jobs.startWorkers();
    // 60,000 rules, about 3 MB: long enough to be cut or stalled mid-file.
    writeFileSync(join(sftp.root, 'big.csv'), rulesFile(60_000, 50_000_000));
  });
  afterAll(async () => {
    for (const p of peers) await p.stop();
    await jobs?.close();
    await sftp?.stop();
    await redis?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const importFrom = async (port: number) => {
    const t = redis.tenant('hostile');
    const fs = await jobs.fileServers.create(t, {
      name: 'peer',
      host: '127.0.0.1',
      port,
      username: sftp.username,
      privateKey: sftp.privateKey,
      root: sftp.root,
    });
    const id = await jobs.service.submitServerImport(
      t,
      { serverId: fs.id, path: '', fileName: 'big.csv' },
      {},
      'key:test',
    );
    const view = await jobs.service.waitFor(t, id, undefined, 60_000);
    let stored = 0;
    for await (const batch of new RuleRepository(client, STORE).scan(t)) stored += batch.length;
    return { view, stored };
  };

  it('a peer that is not SSH: failed at once (no retry), saying so', async () => {
    const peer = await garbagePeer();
    peers.push(peer);
    const { view, stored } = await importFrom(peer.port);
    assert.equal(view.state, 'failed');
    assert.equal(view.error?.code, 'CG_ERR_UNAVAILABLE', JSON.stringify(view.error));
    assert.match(view.error!.message, /does not speak SSH/);
    assert.equal(view.attempts, 1, 'retrying cannot help');
    assert.equal(stored, 0);
  });

  it('a peer that accepts TCP and never answers: failed after the bounded attempts, naming the handshake', async () => {
    const peer = await silentPeer();
    peers.push(peer);
    const { view, stored } = await importFrom(peer.port);
    assert.equal(view.state, 'failed');
    assert.equal(view.error?.code, 'CG_ERR_UNAVAILABLE', JSON.stringify(view.error));
    assert.match(view.error!.message, /did not complete the SSH handshake within 2 s/);
    assert.equal(view.attempts, ATTEMPTS);
    assert.equal(stored, 0);
  });

  it('a server that drops the connection mid-file: failed, nothing half-read imported', async () => {
    const proxy = await mangledProxy(sftp.port, 400_000, 'cut');
    peers.push(proxy);
    const { view, stored } = await importFrom(proxy.port);
    assert.equal(view.state, 'failed');
    assert.equal(view.error?.code, 'CG_ERR_UNAVAILABLE', JSON.stringify(view.error));
    assert.match(view.error!.message, /closed the connection mid-transfer|cannot be reached|No response/);
    assert.equal(view.attempts, ATTEMPTS);
    assert.equal(stored, 0, 'the file is validated whole before any row is applied');
  });

  it('a server that stops answering mid-file: failed when its keepalives go unanswered', async () => {
    const proxy = await mangledProxy(sftp.port, 400_000, 'stall');
    peers.push(proxy);
    const { view, stored } = await importFrom(proxy.port);
    assert.equal(view.state, 'failed');
    assert.equal(view.error?.code, 'CG_ERR_UNAVAILABLE', JSON.stringify(view.error));
    assert.match(view.error!.message, /stopped answering|did not answer|closed the connection/);
    assert.equal(stored, 0);
  });

  it('after all that, the node imports from a good server', async () => {
    const { view, stored } = await importFrom(sftp.port);
    assert.equal(view.state, 'completed', JSON.stringify(view.error));
    assert.equal(stored, 60_000);
  });
});
