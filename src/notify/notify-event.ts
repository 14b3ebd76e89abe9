import { randomUUID } from 'node:crypto';
import type { CallEvent } from '../call/call-events.js';
import type { NotifyEventType } from '../domain/notify-event-types.js';

/** A bulk job's end, for the campaign engine (see job-events.ts for the jobs worker's hook). */
export interface JobFinishedData {
  readonly jobId: string;
  readonly state: 'completed' | 'failed';
  /** Numbers the job reported: read, imported, skipped, failed, deleted (imports); records, files, bytes (exports). */
  readonly counts?: Readonly<Record<string, number>>;
  /** An errors file with the bad rows can be fetched through the jobs API. */
  readonly errorsFile?: boolean;
  /** Why a failed job failed. */
  readonly error?: string;
}

/** What a publisher hands in; the notifier adds the id and the time. */
export type NotifyInput =
  | {
      readonly type: 'agent.popup' | 'call.wrapped_up';
      readonly tenant: string;
      readonly data: CallEventData;
    }
  | {
      readonly type: 'import.finished' | 'export.finished';
      readonly tenant: string;
      readonly data: JobFinishedData;
    };

export type CallEventData = Omit<CallEvent, 'type' | 'tenant'>;

/**
 * The envelope every receiver gets, as the webhook body and as the stream entry. `id` is the
 * idempotency key (also sent as X-Callguard-Event-Id): retries and duplicates carry the same id.
 */
export interface NotifyEvent {
  readonly id: string;
  readonly type: NotifyEventType;
  readonly tenant: string;
  readonly createdAt: string;
  readonly data: CallEventData | JobFinishedData;
}

export function fromCallEvent(event: CallEvent): NotifyInput {
  const { type, tenant, ...data } = event;
  return { type, tenant, data };
}

export function envelope(input: NotifyInput, now: number): NotifyEvent {
  return {
    id: randomUUID(),
    type: input.type,
    tenant: input.tenant,
    createdAt: new Date(now).toISOString(),
    data: input.data,
  };
}
