import { randomUUID } from 'node:crypto';
import { cgError } from '../domain/errors.js';
import { parseInput, readHashObject, readHashObjects } from '../store/hash-objects.js';
import { bulkKeys } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import { TenantRepository } from '../store/tenant-repository.js';
import { type JobOus, withOus } from './job-ous.js';
import type { JobService } from './job-service.js';
import {
  nextRun,
  type ScheduleInput,
  type ScheduleView,
  type StoredSchedule,
  scheduleInputSchema,
  storedScheduleSchema,
} from './schedule-schemas.js';

const view = (s: StoredSchedule): ScheduleView => {
  const { template: _template, ...rest } = s;
  const next = s.state === 'active' ? nextRun(s.cron, s.timezone) : undefined;
  return { ...rest, ...(next ? { nextRunAt: next } : {}) };
};

/**
 * Scheduled imports and exports: the definition in the tenant's hash (an export's password sealed in
 * the job template), the timing in a BullMQ job scheduler per schedule, which exists only while the
 * schedule is active. Per-tenant limits come from the tenant parameters.
 */
export class ScheduleService {
  constructor(
    private readonly client: RedisClient,
    private readonly jobs: JobService,
  ) {}

  private schedulerId = (tenant: string, id: string) => `${tenant}:${id}`;

  /**
   * `ous`: the OUs of the creating key (who may see the schedule and its runs); `keyOus`: the OUs every
   * run's rows are checked against, when the key is confined to some.
   */
  async create(
    tenant: string,
    input: ScheduleInput,
    createdBy: string,
    ous?: JobOus,
    keyOus?: readonly string[],
  ): Promise<ScheduleView> {
    const i = parseInput(scheduleInputSchema, input, 'schedule');
    const params = await new TenantRepository(this.client).params(tenant);
    const limit = i.kind === 'import' ? params.maxScheduledImports : params.maxScheduledExports;
    const existing = (await this.stored(tenant)).filter((s) => s.kind === i.kind).length;
    if (existing >= limit) {
      throw cgError(
        'CG_ERR_LIMIT_EXCEEDED',
        `the tenant has ${existing} scheduled ${i.kind} tasks, the most it may have (tenant parameter ${
          i.kind === 'import' ? 'maxScheduledImports' : 'maxScheduledExports'
        } = ${limit}); delete one or raise the limit`,
        { limit, kind: i.kind },
      );
    }
    const id = randomUUID();
    const template =
      i.kind === 'import'
        ? await this.jobs.serverImportData(tenant, i.file, i.params ?? {}, createdBy, id, ous, keyOus)
        : await this.jobs.exportData(
            tenant,
            { filter: i.filter, target: { mode: 'server', ...i.file }, password: i.password },
            createdBy,
            id,
            ous,
          );
    const stored: StoredSchedule = {
      id,
      kind: i.kind,
      name: i.name,
      cron: i.cron,
      timezone: i.timezone,
      state: 'active',
      file: i.file,
      ...(i.kind === 'import' && i.params ? { params: i.params } : {}),
      ...(i.kind === 'export' && i.filter ? { filter: i.filter } : {}),
      createdBy,
      ...withOus(ous),
      createdAt: Date.now(),
      template: template as unknown as Record<string, unknown>,
    };
    await this.client.hset(bulkKeys(tenant).schedules, id, JSON.stringify(stored));
    await this.activate(tenant, stored);
    return view(stored);
  }

  private async stored(tenant: string): Promise<StoredSchedule[]> {
    return readHashObjects(this.client, bulkKeys(tenant).schedules, storedScheduleSchema);
  }

  private async one(tenant: string, id: string): Promise<StoredSchedule> {
    const s = await readHashObject(this.client, bulkKeys(tenant).schedules, id, storedScheduleSchema);
    if (!s) throw cgError('CG_ERR_NOT_FOUND', `schedule "${id}" does not exist`);
    return s;
  }

  async list(tenant: string): Promise<ScheduleView[]> {
    return (await this.stored(tenant)).map(view);
  }

  async get(tenant: string, id: string): Promise<ScheduleView> {
    return view(await this.one(tenant, id));
  }

  private async activate(tenant: string, s: StoredSchedule): Promise<void> {
    await this.jobs.queues[s.kind].upsertJobScheduler(
      this.schedulerId(tenant, s.id),
      { pattern: s.cron, tz: s.timezone },
      { name: s.kind, data: s.template as never },
    );
  }

  private async setState(tenant: string, id: string, state: 'active' | 'paused'): Promise<ScheduleView> {
    const s = await this.one(tenant, id);
    const next = { ...s, state };
    await this.client.hset(bulkKeys(tenant).schedules, id, JSON.stringify(next));
    if (state === 'active') await this.activate(tenant, next);
    else await this.jobs.queues[s.kind].removeJobScheduler(this.schedulerId(tenant, id));
    return view(next);
  }

  start(tenant: string, id: string): Promise<ScheduleView> {
    return this.setState(tenant, id, 'active');
  }

  pause(tenant: string, id: string): Promise<ScheduleView> {
    return this.setState(tenant, id, 'paused');
  }

  async delete(tenant: string, id: string): Promise<void> {
    const s = await this.one(tenant, id);
    await this.jobs.queues[s.kind].removeJobScheduler(this.schedulerId(tenant, id));
    await this.client.hdel(bulkKeys(tenant).schedules, id);
  }

  /** BullMQ's own next run time for an active schedule (what the scheduler will actually do). */
  async scheduledAt(tenant: string, id: string): Promise<number | undefined> {
    const s = await this.one(tenant, id);
    const sch = await this.jobs.queues[s.kind].getJobScheduler(this.schedulerId(tenant, id));
    return sch?.next ?? undefined;
  }
}
