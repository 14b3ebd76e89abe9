/**
 * A job worker in its own process, for the crash tests (killed with SIGKILL mid-job). Settings come
 * from the environment: REDIS_URL, CALLGUARD_SECRET_KEY; it reports "ready" on stdout.
 */
import { loadConfig } from '../../../src/config.js';
import { createBulkJobs } from '../../../src/jobs/bulk-jobs.js';
import { silentLogger } from '../../../src/log.js';
import { createRedisClient } from '../../../src/store/redis-client.js';

const config = loadConfig();
const client = createRedisClient({ url: config.REDIS_URL });
const jobs = createBulkJobs(config, client, { streamMaxLen: 10_000, snapshotEvery: 10_000 }, silentLogger);
// Tests shorten BullMQ's stalled-job timing (a killed worker's job is picked up in about a second).
const timing = process.env.CG_TEST_FAST_STALL === '0' ? {} : { stalledIntervalMs: 500, lockDurationMs: 1500 };
jobs.startWorkers(timing);
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void jobs.close().then(() => process.exit(0));
});
