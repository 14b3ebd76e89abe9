import { backoffMs } from '../backoff.js';
import type { NotifyEventType } from '../domain/notify-event-types.js';
import { type DeadLetter, DeadLetterRepository } from '../store/dead-letter-repository.js';
import type { RedisClient } from '../store/redis-client.js';
import type { WebhookTarget } from './webhook-settings.js';

/**
 * A delivery job in the durable queue. It carries the signed body but neither the URL nor the
 * secret: both are read from the tenant parameters at each attempt, so a fixed URL or a rotated
 * secret applies to pending retries and no secret sits in the queue.
 */
export interface WebhookJobData {
  readonly tenant: string;
  readonly eventId: string;
  readonly type: NotifyEventType;
  readonly target: WebhookTarget;
  readonly body: string;
  /** The agent whose events are delivered in order (`data.agent`); absent for events without one. */
  readonly agent?: string;
  /** Order of the event among its agent's: creation time (ms) × 1024 + a sequence within the ms. */
  readonly order?: number;
}

/**
 * The lane of an event without an agent: its own (`\u0001` + event id; agent names hold no control
 * characters). Such events have no order to keep, so they go in parallel, yet a failing one is still
 * listed with its receiver's failing lanes and started again by the receiver probe.
 */
const ownLane = (eventId: string): string => `\u0001${eventId}`;

/** The agent and order of a job; jobs queued by an earlier version carry neither, the body tells. */
export function laneOf(data: WebhookJobData): { agent: string; order: number } {
  if (data.order !== undefined) return { agent: data.agent || ownLane(data.eventId), order: data.order };
  try {
    const e = JSON.parse(data.body) as { createdAt?: string; data?: { agent?: unknown } };
    const agent =
      typeof e.data?.agent === 'string' && e.data.agent !== '' ? e.data.agent : ownLane(data.eventId);
    return { agent, order: (Date.parse(e.createdAt ?? '') || 0) * 1024 };
  } catch {
    return { agent: ownLane(data.eventId), order: 0 };
  }
}

export interface WebhookDeliveryOptions {
  /** Per-attempt time limit (connect + response headers + body), ms. */
  readonly timeoutMs: number;
  /** Attempts before a delivery goes to the dead-letter list. */
  readonly attempts: number;
  /** First retry delay, ms; doubles each attempt, with jitter, capped by maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
  /**
   * While an agent's oldest event fails, one of the receiver's failing events is tried again this
   * often at the most (starting at backoffMs, doubling up to this): the probe that notices the
   * receiver is back. Probe tries do not use up attempts.
   */
  readonly probeMaxMs: number;
  /** Parallel deliveries per worker. */
  readonly concurrency: number;
  /** Dead letters kept per tenant. */
  readonly deadLetterMaxLen: number;
}

export const DEFAULT_DELIVERY_OPTIONS: WebhookDeliveryOptions = Object.freeze({
  timeoutMs: 5000,
  attempts: 8,
  backoffMs: 1000,
  maxBackoffMs: 10 * 60_000,
  probeMaxMs: 2000,
  concurrency: 16,
  deadLetterMaxLen: 10_000,
});

export const BACKOFF_TYPE = 'cg-exp-jitter';

/**
 * Delay before retry number `attemptsMade` (1 = the first retry): exponential, with "equal jitter"
 * (half fixed, half random) so that receivers coming back from an outage are not hit in lockstep.
 */
export function backoffDelay(
  attemptsMade: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const exp = backoffMs(attemptsMade, { firstMs: baseMs, maxMs });
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** A webhook delivery in the tenant's dead-letter list. */
export type WebhookDeadLetter = DeadLetter<NotifyEventType, WebhookTarget>;
export type WebhookDeadLetters = DeadLetterRepository<NotifyEventType, WebhookTarget>;

/** The tenants' dead-letter lists of webhook deliveries (capped at `maxLen` each). */
export function webhookDeadLetters(client: RedisClient, maxLen?: number): WebhookDeadLetters {
  return new DeadLetterRepository<NotifyEventType, WebhookTarget>(client, maxLen);
}
