import { webhookLaneKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';
import { runScript } from './scripts.js';

/** Where a webhook delivery stands in its lane (one agent's events for one receiver). */
export type LaneEntry =
  /** It holds the lane and may be sent; `dueAt`: it is failing and its next counted attempt is due then. */
  | { readonly go: true; readonly dueAt: number | undefined }
  /** It waits behind `holder`, which is being delivered or retried, with `ahead` others before it. */
  | { readonly go: false; readonly holder: string; readonly ahead: number };

/** A lane of a tenant: the receiver (`target`) and the agent (an event without one has a lane of its own). */
export interface LaneRef {
  readonly tenant: string;
  readonly target: string;
  readonly agent: string;
}

const laneName = (ref: LaneRef): string => `${ref.target}:${ref.agent}`;

function laneKeys(ref: LaneRef): string[] {
  const k = webhookLaneKeys(ref.tenant);
  return [k.holders, k.lane(laneName(ref)), k.failing(ref.target)];
}

/**
 * Per-agent ordering of webhook deliveries, kept in the tenant's slot. At most one delivery of a lane
 * is in flight (the holder); the others wait in event order and are handed the lane one by one. A
 * receiver's failing holders are listed with the time their next counted attempt is due, so that a
 * probe can try one of them early and, once the receiver answers, start all of them at once.
 */
export class WebhookLanes {
  constructor(private readonly client: RedisClient) {}

  /** Takes the lane (or confirms it is held by `jobId`), or queues `jobId` behind the holder. */
  async enter(ref: LaneRef, jobId: string, order: number): Promise<LaneEntry> {
    const [go, value, rank] = (await runScript(this.client, 'lane-enter-3', laneKeys(ref), [
      laneName(ref),
      jobId,
      order,
    ])) as [number, string, number?];
    if (go === 1) return { go: true, dueAt: value === '' ? undefined : Number(value) };
    return { go: false, holder: value, ahead: Number(rank ?? 0) };
  }

  /** `jobId` is done with the lane; returns the job id that holds it now (to be started), if any. */
  async leave(ref: LaneRef, jobId: string): Promise<string | undefined> {
    const next = (await runScript(this.client, 'lane-leave-3', laneKeys(ref), [laneName(ref), jobId])) as
      | string
      | null;
    return next ?? undefined;
  }

  /** The job id holding the lane now. */
  async holder(ref: LaneRef): Promise<string | undefined> {
    return (await this.client.hget(webhookLaneKeys(ref.tenant).holders, laneName(ref))) ?? undefined;
  }

  /** The holder `jobId` failed; its next counted attempt is due at `dueAt`. */
  async markFailing(ref: LaneRef, jobId: string, dueAt: number): Promise<void> {
    await this.client.zadd(webhookLaneKeys(ref.tenant).failing(ref.target), String(dueAt), jobId);
  }

  /** Up to `max` failing holders of a receiver, the soonest due first. */
  async failing(tenant: string, target: string, max = 1000): Promise<string[]> {
    return this.client.zrange(webhookLaneKeys(tenant).failing(target), '0', String(max - 1));
  }

  /** Forgets a failing holder whose job no longer exists. */
  async forgetFailing(tenant: string, target: string, jobId: string): Promise<void> {
    await this.client.zrem(webhookLaneKeys(tenant).failing(target), jobId);
  }
}
