import { type ConnectionOptions, DelayedError, Job, UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '../log.js';
import { NOTIFY_QUEUE_PREFIX, WEBHOOK_QUEUE } from '../store/keys.js';
import type { RedisClient } from '../store/redis-client.js';
import type { LaneRef, WebhookLanes } from '../store/webhook-lanes.js';
import { webhookDeliveriesTotal } from './notify-metrics.js';
import { ReceiverGate } from './receiver-gate.js';
import { ReceiverProbes } from './receiver-probes.js';
import { type DeliveryResult, WebhookSender } from './webhook-delivery.js';
import {
  BACKOFF_TYPE,
  backoffDelay,
  laneOf,
  type WebhookDeadLetters,
  type WebhookDeliveryOptions,
  type WebhookJobData,
} from './webhook-job.js';
import { delivers, urlOf, type WebhookSettings } from './webhook-settings.js';

export interface WebhookWorkerDeps {
  /** A connection the worker may block on (BullMQ needs maxRetriesPerRequest: null). */
  readonly connection: RedisClient;
  /** Commands of the lanes (per-agent order); the process's client. */
  readonly lanes: WebhookLanes;
  /** The tenant's current webhook settings (read at every attempt). */
  readonly settingsFor: (tenant: string) => Promise<WebhookSettings>;
  readonly deadLetters: WebhookDeadLetters;
  readonly options: WebhookDeliveryOptions;
  readonly log: Logger;
  readonly now?: () => number;
}

/** A receiver's failing lanes are all started at most this often once it answers again. */
const RESUME_EVERY_MS = 1000;
/** An early try (probe, resume) is one made this long or more before the attempt was due. */
const EARLY_MS = 20;
/** A delivery waits in memory for its receiver's turn this long at the most... */
const SHARE_WAIT_HERE_MS = 100;
/** ...and when told to wait elsewhere, is started when one to the receiver is over, or after this. */
const SHARE_WAIT_MAX_MS = 1000;
/** The error of an attempt not made because the receiver is silent (see ReceiverGate). */
const NOT_TRIED =
  'not sent: the receiver did not answer its last attempt, and another attempt to it is in flight';
/** A job waiting in memory for its lane; `chained`: every job ahead of it in the lane was waiting here too. */
interface Waiter {
  readonly resolve: (handed: boolean) => void;
  readonly order: number;
  readonly chained: boolean;
}

/** What became of a lane when its holder was done: the job that holds it now, and one released here early. */
interface HandOver {
  next?: string;
  released?: string;
}

const laneKey = (lane: LaneRef): string => `${lane.tenant}\u0000${lane.target}\u0000${lane.agent}`;
/** A receiver: a tenant's webhook target. */
const receiverKey = (tenant: string, target: string): string => `${tenant}\u0000${target}`;
/** Jobs of one lane that wait in memory for the one being sent (see waitHere). */
const LOCAL_WAITERS_PER_LANE = 8;
/** The longest a job waits in memory for a holder that is not being sent yet (fetched elsewhere?). */
const LOCAL_WAIT_MAX_MS = 5_000;
/** A waiting delivery wakes up after this long at least (to repair a lane whose holder vanished)... */
const WAIT_MIN_MS = 30_000;
/** ...and at most this long; the older it is, the rarer its wake-ups. */
const WAIT_MAX_MS = 10 * 60_000;

/**
 * Moves a delayed job to the front of the queue. promote() alone puts it at the back, behind
 * everything waiting: after a backlog, a lane would wait for the whole queue at every hand-over,
 * and every job of the lane fetched meanwhile would be put back to wait again.
 */
async function runNext(job: Job<WebhookJobData>): Promise<void> {
  await job.promote();
  await job.changePriority({ priority: 0, lifo: true });
}

/** A failed attempt to be retried after `retryInMs` (the backoff strategy reads it). */
class RetryLater extends Error {
  constructor(
    message: string,
    readonly retryInMs: number,
  ) {
    super(message);
  }
}

/**
 * Delivers queued webhooks: signed POST, time limit, retries with exponential backoff and jitter;
 * the last failure (or a permanent one, such as a refused private target) lands in the tenant's
 * dead-letter list. Runs in the `worker` role, never on a call's path.
 *
 * Order: the events of one agent for one receiver form a lane (src/store/webhook-lanes.ts). One
 * delivery of a lane is in flight at a time; the others wait (delayed jobs) and are started one by
 * one as the one before them is delivered or given up. While a lane's holder fails, a probe per
 * receiver tries one failing holder again after the attempts' backoff capped at `probeMaxMs` (these tries
 * do not use up attempts); when one gets through, every failing lane of that receiver starts again,
 * so an outage ends with each agent's backlog delivered in order within seconds.
 */
export class WebhookWorker {
  readonly worker: Worker<WebhookJobData>;
  private readonly sender = new WebhookSender();
  private readonly now: () => number;
  private readonly resumedAt = new Map<string, number>();
  private readonly probes: ReceiverProbes;
  private readonly gate: ReceiverGate;
  /** Jobs this process is sending that hold their lane. */
  private readonly holding = new Set<string>();
  /** Jobs being processed here, whatever they do. */
  private readonly running = new Set<string>();
  /** Jobs handed their lane while they were being processed here: started when that is over... */
  private readonly handedRunning = new Set<string>();
  /** ...if they went to wait in Redis (see wait). */
  private readonly waitingInRedis = new Set<string>();
  /** Jobs handed their lane here that are waiting to be fetched (see start). */
  private readonly starting = new Set<string>();
  /** Per lane, the jobs waiting here for the lane (see waitHere). */
  private readonly waiters = new Map<string, Map<string, Waiter>>();
  private waitingHere = 0;

  constructor(private readonly deps: WebhookWorkerDeps) {
    this.now = deps.now ?? Date.now;
    const { backoffMs, maxBackoffMs } = deps.options;
    // Half the deliveries for one receiver; of the other half, all but one may wait here for it.
    const share = Math.max(1, Math.floor(deps.options.concurrency / 2));
    this.gate = new ReceiverGate(share, Math.max(0, deps.options.concurrency - share - 1), this.now);
    this.probes = new ReceiverProbes({
      backoffMs,
      probeMaxMs: deps.options.probeMaxMs,
      tryOnce: (tenant, target) => this.probeOnce(tenant, target),
      log: deps.log,
    });
    this.worker = new Worker<WebhookJobData>(WEBHOOK_QUEUE, (job, token) => this.process(job, token), {
      connection: deps.connection as unknown as ConnectionOptions,
      prefix: NOTIFY_QUEUE_PREFIX,
      concurrency: deps.options.concurrency,
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string, err?: Error) =>
          err instanceof RetryLater
            ? err.retryInMs
            : type === BACKOFF_TYPE
              ? backoffDelay(attemptsMade, backoffMs, maxBackoffMs)
              : backoffMs,
      },
    });
    this.worker.on('error', (error) => deps.log.warn({ err: error }, 'webhook worker: Redis error'));
  }

  private async process(job: Job<WebhookJobData>, token?: string): Promise<string> {
    const jobId = job.id ?? job.data.eventId;
    this.running.add(jobId);
    try {
      return await this.run(job, token);
    } finally {
      this.running.delete(jobId);
      // Handed its lane while on its way to wait in Redis: it may have looked for the hand-over just
      // before it came, so it is started now.
      const handed = this.handedRunning.delete(jobId);
      if (this.waitingInRedis.delete(jobId) && handed) void this.start(jobId);
    }
  }

  private async run(job: Job<WebhookJobData>, token?: string): Promise<string> {
    const data = job.data;
    const jobId = job.id ?? data.eventId;
    const { agent, order } = laneOf(data);
    const lane: LaneRef = { tenant: data.tenant, target: data.target, agent };
    // The lane's command first, in the same round trip as the settings read.
    let [entry, settings] = await Promise.all([
      this.deps.lanes.enter(lane, jobId, order),
      this.deps.settingsFor(data.tenant),
    ]);
    if (!entry.go) {
      const waitedFrom = this.now();
      if (!(await this.waitHere(lane, entry.holder, entry.ahead, jobId, order))) {
        return this.wait(job, token, lane, entry.holder);
      }
      // Handed the lane by the job before it in this process. Settings read long ago are read again.
      entry = { go: true, dueAt: undefined };
      if (this.now() - waitedFrom > 1000) settings = await this.deps.settingsFor(data.tenant);
    }
    this.holding.add(jobId);
    this.starting.delete(jobId);
    const handed: HandOver = {};
    try {
      return await this.asHolder(job, token, lane, entry.dueAt, settings, handed);
    } finally {
      this.holding.delete(jobId);
      if (!handed.released) this.settleWaiters(lane, handed.next);
    }
  }

  /**
   * A job whose lane is held by a job this process is sending waits here, in memory, until that one
   * hands the lane on: to it (true), or not (false: it then waits in Redis). Cheaper than waiting in
   * Redis (delayed, promoted, fetched again) when an agent's events come close together, as when a
   * backlog is worked off. It is in the lane's waiting set in Redis all along, so the order is the
   * lane's whichever way it waits. Bounded per lane, and to half the concurrency in all, so other
   * lanes keep slots.
   */
  private async waitHere(
    lane: LaneRef,
    holder: string,
    ahead: number,
    jobId: string,
    order: number,
  ): Promise<boolean> {
    // The holder is sent here, or was handed the lane here and is about to be (see start).
    if (!this.holding.has(holder) && !this.starting.has(holder)) return false;
    const key = laneKey(lane);
    const waiters = this.waiters.get(key) ?? new Map<string, Waiter>();
    if (waiters.size >= LOCAL_WAITERS_PER_LANE || this.waitingHere >= this.deps.options.concurrency / 2) {
      return false;
    }
    // Not behind a receiver that is slow or silent: that would hold the slots other receivers need.
    const receiver = receiverKey(lane.tenant, lane.target);
    if (!this.gate.holdHere(receiver)) return false;
    let here = 0;
    for (const w of waiters.values()) if (w.order < order) here++;
    this.waiters.set(key, waiters);
    this.waitingHere++;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        waiters.set(jobId, { resolve, order, chained: here === ahead });
        // A holder started here may be fetched by another worker process: then wait in Redis.
        timer = setTimeout(() => {
          if (waiters.get(jobId)?.resolve !== resolve) return;
          waiters.delete(jobId);
          if (waiters.size === 0 && this.waiters.get(key) === waiters) this.waiters.delete(key);
          resolve(false);
        }, LOCAL_WAIT_MAX_MS);
      });
    } finally {
      clearTimeout(timer);
      this.waitingHere--;
      this.gate.releaseHere(receiver);
    }
  }

  /**
   * The holder of a lane got through: the oldest job waiting here may go at once, while the hand-over
   * is recorded in Redis, if every job ahead of it in the lane was waiting here when it came (then
   * it is the one the hand-over names). Saves a round trip per event when a backlog is worked off.
   */
  private releaseNext(lane: LaneRef): string | undefined {
    const waiters = this.waiters.get(laneKey(lane));
    let first: [string, Waiter] | undefined;
    for (const w of waiters?.entries() ?? []) if (!first || w[1].order < first[1].order) first = w;
    if (!first?.[1].chained) return undefined;
    waiters!.delete(first[0]);
    first[1].resolve(true);
    return first[0];
  }

  /**
   * The holder of a lane is done here: the waiter it handed the lane to goes on; if it handed it to
   * none of them (it is retrying, or a job waiting in Redis is next), they all wait in Redis.
   */
  private settleWaiters(lane: LaneRef, next: string | undefined): void {
    const key = laneKey(lane);
    const waiters = this.waiters.get(key);
    if (!waiters) return;
    const handed = next !== undefined ? waiters.get(next) : undefined;
    if (handed) {
      // The others now wait behind `next`, which is sent here too.
      waiters.delete(next!);
      handed.resolve(true);
    } else {
      for (const w of waiters.values()) w.resolve(false);
      waiters.clear();
    }
    if (waiters.size === 0) this.waiters.delete(key);
  }

  /** Sends a job that holds its lane; `handed` learns who holds the lane after it. */
  private async asHolder(
    job: Job<WebhookJobData>,
    token: string | undefined,
    lane: LaneRef,
    dueAt: number | undefined,
    settings: WebhookSettings,
    handed: HandOver,
  ): Promise<string> {
    const data = job.data;
    const jobId = job.id ?? data.eventId;
    const handOver = async (delivered = false) => {
      // Synchronously before the leave is sent: the released job's commands go after it.
      handed.released = delivered ? this.releaseNext(lane) : undefined;
      handed.next = await this.handOver(lane, jobId, handed.released);
    };
    const attempt = job.attemptsMade + 1;
    const url = urlOf(settings, data.target);
    // Switched off (or unconfigured) after the event was queued: the tenant no longer wants it.
    if (settings.disabledEvents.has(data.type) || !url || !delivers(settings, data.target)) {
      await handOver();
      return 'skipped';
    }
    const { result, back } = await this.attempt(job, token, dueAt, settings, url, attempt);
    if (result.ok) {
      webhookDeliveriesTotal.inc({ result: 'delivered' });
      await handOver(true);
      if (dueAt !== undefined || back) this.receiverBack(data.tenant, data.target);
      return 'delivered';
    }
    const attempts = job.opts.attempts ?? this.deps.options.attempts;
    const now = this.now();
    // A try ahead of its due attempt (the probe, or a resume after the receiver answered): a
    // failure costs no attempt, the attempt stays due when it was.
    const early = dueAt !== undefined && now < dueAt - EARLY_MS;
    const last = result.permanent || (!early && attempt >= attempts);
    const log = {
      tenant: data.tenant,
      eventId: data.eventId,
      type: data.type,
      attempt,
      status: result.status,
    };
    if (!last) {
      webhookDeliveriesTotal.inc({ result: 'failed' });
      this.probes.start(data.tenant, data.target);
      if (early && token) {
        await job.moveToDelayed(dueAt!, token);
        throw new DelayedError();
      }
      const retryInMs = backoffDelay(attempt, this.deps.options.backoffMs, this.deps.options.maxBackoffMs);
      await this.deps.lanes.markFailing(lane, jobId, now + retryInMs);
      this.deps.log.info({ ...log, error: result.error }, 'webhook attempt failed; will retry');
      throw new RetryLater(result.error, retryInMs);
    }
    webhookDeliveriesTotal.inc({ result: result.permanent ? 'refused' : 'dead' });
    await this.deps.deadLetters.add(data, {
      url,
      attempts: attempt,
      status: result.status,
      error: result.error,
      at: now,
    });
    this.deps.log.warn({ ...log, error: result.error }, 'webhook moved to the dead-letter list');
    // The agent's later events do not wait for a dead one: the next in line goes now.
    await handOver();
    throw new UnrecoverableError(result.error);
  }

  /**
   * One attempt at the receiver through its gate (ReceiverGate). Not sent, and no attempt used, while
   * the receiver has its share in flight, or is silent and the job is not due yet: then the job is
   * delayed (DelayedError). A silent receiver's due attempt fails at once without a request.
   * `back`: the receiver answered after it had been silent.
   */
  private async attempt(
    job: Job<WebhookJobData>,
    token: string | undefined,
    dueAt: number | undefined,
    settings: WebhookSettings,
    url: string,
    attempt: number,
  ): Promise<{ result: DeliveryResult; back: boolean }> {
    const data = job.data;
    if (settings.secretError) {
      return { result: { ok: false, permanent: true, error: settings.secretError }, back: false };
    }
    const receiver = receiverKey(data.tenant, data.target);
    const jobId = job.id ?? data.eventId;
    let pass = this.gate.enter(receiver, jobId);
    if (pass === 'waitHere') {
      pass = (await this.gate.waitHere(receiver, SHARE_WAIT_HERE_MS))
        ? 'send'
        : this.gate.enter(receiver, jobId, false);
    }
    const early = dueAt !== undefined && this.now() < dueAt - EARLY_MS;
    if (pass === 'wait' || (pass === 'silent' && early)) {
      // Its turn comes when a delivery to the receiver is over (see leave), or when it is due.
      if (!token) throw new Error('no lock token');
      await job.moveToDelayed(pass === 'wait' ? this.now() + SHARE_WAIT_MAX_MS : dueAt!, token);
      // A turn that came while it was being delayed found it still active: it starts itself.
      if (pass === 'wait' && this.gate.hasRoom(receiver)) await runNext(job).catch(() => undefined);
      throw new DelayedError();
    }
    if (pass === 'silent') return { result: { ok: false, permanent: false, error: NOT_TRIED }, back: false };
    let result: DeliveryResult;
    const sentAt = this.now();
    try {
      result = await this.sender.send(
        {
          url,
          secret: settings.secret,
          eventId: data.eventId,
          type: data.type,
          body: data.body,
          attempt,
          allowPrivateTargets: settings.allowPrivateTargets,
          timeoutMs: this.deps.options.timeoutMs,
        },
        sentAt,
      );
    } catch (error) {
      // send() answers every failure; whatever it missed must not keep the gate counting it.
      result = { ok: false, permanent: false, error: (error as Error).message };
    }
    const answered = result.ok || result.status !== undefined;
    const { wasSilent, next } = this.gate.leave(receiver, answered, sentAt);
    if (next !== undefined) void this.start(next);
    return { result, back: answered && wasSilent };
  }

  /**
   * The job waits behind the lane's holder: delayed, to be started by the holder's hand-over. It
   * also wakes up by itself now and then, and then repairs a lane whose holder is gone (a job
   * removed by hand, or failed outside this code).
   */
  private async wait(job: Job<WebhookJobData>, token: string | undefined, lane: LaneRef, holder: string) {
    if (job.attemptsStarted > 1 && (await this.isGone(holder))) {
      const next = await this.deps.lanes.leave(lane, holder);
      this.deps.log.warn(
        { tenant: lane.tenant, holder, next },
        'webhook lane held by a job that is gone; moved on',
      );
      if (next === job.id) return this.run(job, token);
      if (next) await this.start(next);
    }
    if (!token) throw new Error('no lock token');
    const age = this.now() - job.timestamp;
    this.waitingInRedis.add(job.id ?? job.data.eventId);
    await job.moveToDelayed(this.now() + Math.min(WAIT_MAX_MS, Math.max(WAIT_MIN_MS, age)), token);
    // The holder may have handed the lane to this job before it was delayed (its start then found
    // it still active): start it here.
    if ((await this.deps.lanes.holder(lane)) === job.id) await runNext(job).catch(() => undefined);
    throw new DelayedError();
  }

  private async isGone(jobId: string): Promise<boolean> {
    const job = await Job.fromId(this.worker, jobId);
    if (!job) return true;
    const state = await job.getState();
    return state === 'completed' || state === 'failed' || state === 'unknown';
  }

  /**
   * Lets the next delivery of the lane go (one waiting here goes when this job is done, or has gone:
   * `released`); returns it.
   */
  private async handOver(lane: LaneRef, jobId: string, released?: string): Promise<string | undefined> {
    const next = await this.deps.lanes.leave(lane, jobId);
    if (released !== undefined && next !== released) {
      // An older job of the lane came in from elsewhere after the released one: both go.
      this.deps.log.info({ tenant: lane.tenant, released, next }, 'webhook lane handed to another job');
    }
    if (next === released) return next;
    const here = this.waiters.get(laneKey(lane))?.get(next ?? '');
    if (here && released !== undefined) {
      this.waiters.get(laneKey(lane))!.delete(next!);
      here.resolve(true);
    } else if (next && !here && this.running.has(next)) this.handedRunning.add(next);
    else if (next && !here) await this.start(next);
    // (A job running here that is not waiting here yet is about to: the hand-over finds it then, it
    // finds itself the holder once it waits in Redis, or it is started when it is done here.)
    return next;
  }

  /** Runs a waiting (delayed) job now; one that is not delayed runs anyway (or starts itself, see wait). */
  private async start(jobId: string): Promise<void> {
    try {
      // A job that is not delayed is refused: it is waiting or running, so it goes anyway.
      this.starting.add(jobId);
      setTimeout(() => this.starting.delete(jobId), LOCAL_WAIT_MAX_MS).unref();
      const job = await Job.fromId(this.worker, jobId);
      if (job) await runNext(job);
    } catch (error) {
      this.deps.log.debug({ err: error, jobId }, 'webhook not started early; it starts when due');
    }
  }

  /** A failing lane of the receiver got through: start all its failing lanes now. */
  private receiverBack(tenant: string, target: string): void {
    const key = receiverKey(tenant, target);
    const t = this.now();
    if (t - (this.resumedAt.get(key) ?? 0) < RESUME_EVERY_MS) return;
    if (this.resumedAt.size > 10_000) this.resumedAt.clear();
    this.resumedAt.set(key, t);
    this.probes.stop(tenant, target);
    void this.deps.lanes
      .failing(tenant, target)
      .then(async (ids) => {
        for (const id of ids) await this.start(id);
      })
      .catch((error: unknown) => this.deps.log.debug({ err: error, tenant }, 'failing webhooks not resumed'));
  }

  /** Tries the receiver's soonest-due failing holder now; false when none is left. */
  private async probeOnce(tenant: string, target: string): Promise<boolean> {
    const [head] = await this.deps.lanes.failing(tenant, target, 1);
    if (!head) return false;
    const job = await Job.fromId(this.worker, head);
    if (!job) await this.deps.lanes.forgetFailing(tenant, target, head);
    else if (await job.isDelayed()) await runNext(job).catch(() => undefined);
    return true;
  }

  /** Finishes the deliveries in flight, then stops; `force`: without waiting for them (Redis away). */
  async close(force = false): Promise<void> {
    this.probes.close();
    await this.worker.close(force);
    await this.sender.close();
  }
  /** Lets go of the worker's connections at once (after a close that Redis did not let finish). */
  disconnect(): void {
    void this.worker.disconnect().catch(() => undefined);
  }
}
