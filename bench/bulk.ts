/**
 * Bulk import and export, end to end through BullMQ, a real OpenSSH SFTP server and a worker in its own
 * process (peak RSS read from /proc/<pid>/status VmHWM):
 *   import: a rules CSV of --rows rows (default 2,000,000) from the file server into a fresh tenant;
 *           beside it, `redis-cli --pipe` of the same records as HSETs (the write ceiling);
 *   export: the same rules to the AES-256 zip (100,000-record CSV parts); beside it,
 *           `7z a -tzip -mem=AES256` of the same CSV files.
 *   check: `callguard check --rules` loading a 1,000,000-row rules file (--check-rows N).
 * Prints one JSON object per line, each with its ratio to the same-run ceiling and the load average.
 * `npm run bench -- bulk [--rows N] [--check-rows N] [--only import|export|check]`
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBulkJobs } from '../src/jobs/bulk-jobs.js';
import { silentLogger } from '../src/log.js';
import { CatalogRepository } from '../src/store/catalog-repository.js';
import { createRedisClient } from '../src/store/redis-client.js';
import { freePort, RedisProcess } from '../src/store/redis-process.js';
import { encodeRule } from '../src/store/rule-codec.js';
import { startSftp } from '../test/jobs/support/sftp-server.js';
import { csvLoad } from './csv-load.js';

const SECRET = 'bench-secret-key-0123456789';
const STORE = { streamMaxLen: 100_000, snapshotEvery: 10_000 };

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Math.round(Number(m[1]) / 1024) : Number.NaN;
}

/** CPU seconds a process has used (user + system), from /proc/<pid>/stat; clock ticks are 1/100 s. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function writeLines(path: string, rows: number, line: (i: number) => string, header?: string) {
  const out = createWriteStream(path);
  if (header) out.write(header);
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += line(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

const GROUPS = ['dnc', 'vip', 'fraud', 'complaints'];
const ruleLine = (i: number) =>
  `${1_404_000_0000 + i * 7},outbound,block,${GROUPS[i % 4]},wrap,sales,,,,,,${i % 10 === 0 ? '30,day' : ','},bulk ${i % 1000}\n`;

/** Each bar met or not, and all of them; the bars are set for 2,000,000 rows (other sizes: ratio and RSS only). */
function bars(rows: number, met: { ratio: boolean; seconds: boolean; rss: boolean }) {
  const full = rows === 2_000_000;
  return {
    ...met,
    seconds: full ? met.seconds : undefined,
    all: met.ratio && met.rss && (!full || met.seconds),
  };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function run(args: string[]): Promise<void> {
  const arg = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const rows = Number(arg('--rows') ?? 2_000_000);
  const checkRows = Number(arg('--check-rows') ?? 1_000_000);
  const only = arg('--only');
  if (only === undefined || only === 'check') {
    const load = loadAverage();
    const r = await csvLoad(checkRows);
    console.log(
      JSON.stringify({
        bench: 'check-rules-load',
        ...r,
        seconds: Number((Number(r.load_and_compile_ms) / 1000).toFixed(2)),
        loadAverage: `${load} -> ${loadAverage()}`,
        bar: 'callguard check --rules: 1,000,000 rows in ≤ 3 s',
        pass: checkRows === 1_000_000 ? Number(r.load_and_compile_ms) <= 3000 : undefined,
      }),
    );
    if (only === 'check') return;
  }
  const work = mkdtempSync(join(tmpdir(), 'cg-bench-bulk-'));
  const redisDir = join(work, 'redis');
  mkdirSync(redisDir);
  const redis = await RedisProcess.start({ dir: redisDir, port: await freePort(), appendonly: false });
  const sftp = await startSftp();
  const client = createRedisClient({ url: redis.url });
  const jobs = createBulkJobs(
    {
      REDIS_URL: redis.url,
      CALLGUARD_DATA_DIR: work,
      CALLGUARD_JOB_CONCURRENCY: 1,
      CALLGUARD_JOB_FILE_TTL_HOURS: 1,
      CALLGUARD_SECRET_KEY: SECRET,
    },
    client,
    STORE,
    silentLogger,
  );
  const worker = spawn(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, '../test/jobs/support/worker-main.ts')],
    {
      env: {
        ...process.env,
        CG_TEST_FAST_STALL: '0',
        REDIS_URL: redis.url,
        CALLGUARD_SECRET_KEY: SECRET,
        CALLGUARD_DATA_DIR: work,
        CALLGUARD_JOB_CONCURRENCY: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await once(worker.stdout!, 'data');
  try {
    const file = join(sftp.root, 'rules.csv');
    await writeLines(
      file,
      rows,
      ruleLine,
      'called,direction,action,group,type,ou,sbc,provider,customer_group,user,calling_country,validity_value,validity_unit,remarks\n',
    );
    const tenant = 'bench';
    // Rows name these; imports refuse names that do not exist.
    const catalog = new CatalogRepository(client);
    await catalog.putOu(tenant, { id: 'sales', name: 'sales' });
    for (const g of GROUPS) await catalog.putGroup(tenant, { id: g, name: g });
    await catalog.putType(tenant, {
      id: 'wrap',
      name: 'wrap',
      operation: 'auto_wrap_up',
      businessResult: 'blocked',
    });
    const load0 = loadAverage();
    const server = await jobs.fileServers.create(tenant, {
      name: 'bench',
      host: sftp.host,
      port: sftp.port,
      username: sftp.username,
      privateKey: sftp.privateKey,
      root: sftp.root,
    });
    const cpu0 = { worker: cpuSeconds(worker.pid!), redis: cpuSeconds(redis.pid!) };
    const t0 = performance.now();
    const importId = await jobs.service.submitServerImport(
      tenant,
      { serverId: server.id, path: '', fileName: 'rules.csv' },
      { overrideRule: 'skip' },
      'bench',
    );
    // When the validation pass ended and how the rate held up: read count at each quarter of the wall time.
    const marks: Array<[number, number]> = [];
    let validated = 0;
    const imported = await jobs.service.waitFor(tenant, importId, (v) => {
      if (!validated && v.progress.phase === 'apply') validated = (performance.now() - t0) / 1000;
      marks.push([(performance.now() - t0) / 1000, v.progress.read]);
    });
    const quarter = (q: number) => {
      const at = marks.find(([, read]) => read >= (rows * q) / 4);
      return at ? Number(at[0].toFixed(1)) : undefined;
    };
    const importSeconds = (performance.now() - t0) / 1000;
    const rssAfterImport = peakRssMb(worker.pid!);
    const cpu1 = { worker: cpuSeconds(worker.pid!), redis: cpuSeconds(redis.pid!) };

    // Ceiling: the same records as plain HSETs into rule buckets, no indexes, no duplicate check.
    const pipeFile = join(work, 'pipe.txt');
    const now = Date.now();
    await writeLines(pipeFile, rows, (i) => {
      const enc = encodeRule({
        called: String(1_404_000_0000 + i * 7),
        direction: 'outbound',
        action: 'block',
        groupId: GROUPS[i % 4],
        typeId: 'wrap',
        ou: 'sales',
        updatedAt: now,
        remarks: `bulk ${i % 1000}`,
      }).replaceAll(String.fromCharCode(31), '|');
      return `HSET cg:{pipe}:r:${Math.floor((i + 1) / 128)} ${i + 1} "${enc}"\r\n`;
    });
    const p0 = performance.now();
    execFileSync('sh', ['-c', `redis-cli -p ${new URL(redis.url).port} --pipe < ${pipeFile}`], {
      stdio: 'ignore',
    });
    const pipeSeconds = (performance.now() - p0) / 1000;
    console.log(
      JSON.stringify({
        bench: 'bulk-import',
        rows,
        state: imported.state,
        read: imported.progress.read,
        imported: imported.progress.imported,
        skipped: imported.progress.skipped,
        failed: imported.progress.failed,
        attempts: imported.attempts,
        seconds: Number(importSeconds.toFixed(2)),
        rowsPerSecond: Math.round(rows / importSeconds),
        validateSeconds: Number(validated.toFixed(1)),
        quarterAtSeconds: [quarter(1), quarter(2), quarter(3), quarter(4)],
        redisCliPipeSeconds: Number(pipeSeconds.toFixed(2)),
        // On a shared machine wall time depends on the neighbours; CPU seconds do not.
        workerCpuSeconds: Number((cpu1.worker - cpu0.worker).toFixed(1)),
        redisCpuSeconds: Number((cpu1.redis - cpu0.redis).toFixed(1)),
        ratioToPipe: Number((importSeconds / pipeSeconds).toFixed(2)),
        loadAverage: `${load0} -> ${loadAverage()}`,
        workerPeakRssMb: rssAfterImport,
        bar: 'import ≤ 4x redis-cli --pipe and ≤ 30 s, worker RSS ≤ 512 MB',
        pass: bars(rows, {
          ratio: importSeconds / pipeSeconds <= 4,
          seconds: importSeconds <= 30,
          rss: rssAfterImport <= 512,
        }),
      }),
    );

    if (only === 'import') return;
    const password = 'Bench1234@';
    const load1 = loadAverage();
    const cpu2 = { worker: cpuSeconds(worker.pid!), redis: cpuSeconds(redis.pid!) };
    const e0 = performance.now();
    const exportId = await jobs.service.submitExport(
      tenant,
      { target: { mode: 'download' }, password },
      'bench',
    );
    const exported = await jobs.service.waitFor(tenant, exportId);
    const exportSeconds = (performance.now() - e0) / 1000;
    const cpu3 = { worker: cpuSeconds(worker.pid!), redis: cpuSeconds(redis.pid!) };
    const zip = join(work, 'export.zip');
    const out = createWriteStream(zip);
    for await (const c of (await jobs.service.exportFile(tenant, exportId))!) {
      if (!out.write(c)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const csvDir = join(work, 'csv');
    execFileSync('7z', ['x', `-p${password}`, `-o${csvDir}`, zip], { stdio: 'ignore' });
    const parts = readdirSync(csvDir);
    const z0 = performance.now();
    execFileSync(
      '7z',
      [
        'a',
        '-tzip',
        '-mem=AES256',
        `-p${password}`,
        join(work, 'baseline.zip'),
        ...parts.map((p) => join(csvDir, p)),
      ],
      {
        stdio: 'ignore',
      },
    );
    const sevenZipSeconds = (performance.now() - z0) / 1000;
    console.log(
      JSON.stringify({
        bench: 'bulk-export',
        rows,
        state: exported.state,
        records: (exported.result as { records?: number } | undefined)?.records,
        files: parts.length,
        zipMb: Number((statSync(zip).size / 1048576).toFixed(1)),
        seconds: Number(exportSeconds.toFixed(2)),
        sevenZipAes256Seconds: Number(sevenZipSeconds.toFixed(2)),
        workerCpuSeconds: Number((cpu3.worker - cpu2.worker).toFixed(1)),
        redisCpuSeconds: Number((cpu3.redis - cpu2.redis).toFixed(1)),
        ratioTo7z: Number((exportSeconds / sevenZipSeconds).toFixed(2)),
        loadAverage: `${load1} -> ${loadAverage()}`,
        workerPeakRssMb: peakRssMb(worker.pid!),
        bar: 'export ≤ 3x 7z a -tzip -mem=AES256 and ≤ 15 s, worker RSS ≤ 512 MB',
        pass: bars(rows, {
          ratio: exportSeconds / sevenZipSeconds <= 3,
          seconds: exportSeconds <= 15,
          rss: peakRssMb(worker.pid!) <= 512,
        }),
      }),
    );
  } finally {
    worker.kill('SIGTERM');
    await once(worker, 'exit');
    await jobs.close();
    client.disconnect();
    await sftp.stop();
    await redis.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
