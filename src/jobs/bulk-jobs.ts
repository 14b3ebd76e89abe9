import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { SecretBox } from '../secret-box.js';
import { FileServerRepository } from '../store/file-server-repository.js';
import { JobFileStore } from '../store/job-files.js';
import type { RedisClient } from '../store/redis-client.js';
import type { StoreOptions } from '../store/store-options.js';
import { FileServerHostPolicy } from './file-server-hosts.js';
import { JobService } from './job-service.js';
import { type JobWorkerOptions, startJobWorkers } from './job-worker.js';
import { ScheduleService } from './schedule-service.js';

export interface BulkJobs {
  readonly service: JobService;
  readonly schedules: ScheduleService;
  readonly fileServers: FileServerRepository;
  readonly files: JobFileStore;
  readonly secrets: SecretBox;
  /** Starts this node's job workers (the `worker` role). */
  startWorkers(
    options?: Partial<Pick<JobWorkerOptions, 'onFinished' | 'stalledIntervalMs' | 'lockDurationMs'>>,
  ): {
    close(force?: boolean): Promise<void>;
  };
  close(): Promise<void>;
}

/** Everything the API, the CLI and the worker role need for bulk import/export, from the config. */
export function createBulkJobs(
  config: Pick<
    Config,
    'REDIS_URL' | 'CALLGUARD_DATA_DIR' | 'CALLGUARD_JOB_CONCURRENCY' | 'CALLGUARD_JOB_FILE_TTL_HOURS'
  > & {
    CALLGUARD_SECRET_KEY?: string;
    REDIS_CLUSTER?: boolean;
    CALLGUARD_FILE_SERVER_HOSTS?: string;
    CALLGUARD_JOB_ATTEMPTS?: number;
    CALLGUARD_SFTP_TIMEOUT_MS?: number;
  },
  client: RedisClient,
  storeOptions: StoreOptions,
  log: Logger,
  secrets: SecretBox = SecretBox.fromConfig(config),
): BulkJobs {
  const ttl = config.CALLGUARD_JOB_FILE_TTL_HOURS * 3600;
  const files = new JobFileStore(client, ttl);
  const fileServers = new FileServerRepository(
    client,
    secrets,
    FileServerHostPolicy.parse(config.CALLGUARD_FILE_SERVER_HOSTS),
  );
  const service = new JobService({
    redisUrl: config.REDIS_URL,
    cluster: config.REDIS_CLUSTER === true,
    client,
    files,
    fileServers,
    secrets,
    keepSeconds: ttl,
    log,
    attempts: config.CALLGUARD_JOB_ATTEMPTS,
  });
  const schedules = new ScheduleService(client, service);
  const workers: Array<{ close(force?: boolean): Promise<void> }> = [];
  return {
    service,
    schedules,
    fileServers,
    files,
    secrets,
    startWorkers: (options = {}) => {
      const w = startJobWorkers(
        {
          client,
          files,
          fileServers,
          secrets,
          storeOptions,
          fileTtlSeconds: ttl,
          log,
          sftpTimeoutMs: config.CALLGUARD_SFTP_TIMEOUT_MS,
          cancels: service.cancels,
        },
        {
          redisUrl: config.REDIS_URL,
          cluster: config.REDIS_CLUSTER === true,
          concurrency: config.CALLGUARD_JOB_CONCURRENCY,
          log,
          track: (tenant, kind, id) => service.track(tenant, kind, id),
          ...options,
        },
      );
      workers.push(w);
      return w;
    },
    close: async () => {
      await Promise.all(workers.splice(0).map((w) => w.close()));
      await service.close();
    },
  };
}
