import type { CallDirection } from '../domain/rule.js';

/** Fired when a blocked call of an Auto Wrap Up type is hung up: the campaign engine records the result. */
export interface WrappedUpEvent {
  readonly type: 'call.wrapped_up';
  readonly tenant: string;
  readonly callId: string;
  readonly direction: CallDirection;
  readonly task?: string;
  readonly agent?: string;
  /** The number that was not dialled (called for outbound, calling for inbound). */
  readonly number: string;
  readonly called: string;
  readonly calling: string;
  readonly businessResult?: string;
  readonly ruleId: number;
  readonly typeId?: string;
  readonly at: string;
}

/** Fired when a blocked call of a Pop Up type is hung up: the agent desktop shows the prompt. */
export interface PopupEvent {
  readonly type: 'agent.popup';
  readonly tenant: string;
  readonly callId: string;
  readonly direction: CallDirection;
  readonly task?: string;
  readonly agent?: string;
  readonly number: string;
  readonly called: string;
  readonly calling: string;
  readonly promptContent?: string;
  readonly jumpAddress?: string;
  readonly businessResult?: string;
  readonly ruleId: number;
  readonly typeId?: string;
  readonly at: string;
}

export type CallEvent = WrappedUpEvent | PopupEvent;

/** Where the PBX apps hand events; delivery (webhooks, streams) is not their business and never blocks a call. */
export interface CallEventSink {
  emit(event: CallEvent): void;
}

/** Keeps events in memory; for the CLI and for tests that assert what was fired. */
export class MemoryEventSink implements CallEventSink {
  readonly events: CallEvent[] = [];
  emit(event: CallEvent): void {
    this.events.push(event);
  }
}
