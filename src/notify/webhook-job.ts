import { backoffMs } from '../backoff.js';
import type { NotifyEventType } from '../domain/notify-event-types.js';
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
}

export interface WebhookDeliveryOptions {
  /** Per-attempt time limit (connect + response headers + body), ms. */
  readonly timeoutMs: number;
  /** Attempts before a delivery goes to the dead-letter list. */
  readonly attempts: number;
  /** First retry delay, ms; doubles each attempt, with jitter, capped by maxBackoffMs. */
  readonly backoffMs: number;
  readonly maxBackoffMs: number;
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
