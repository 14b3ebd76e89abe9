import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ChannelFacts } from './esl-frames.js';

/** A call the double puts through the app, as the dialplan would hand it over. */
export interface DoubleCallSpec {
  tenant?: string;
  direction?: 'inbound' | 'outbound';
  called: string;
  /** undefined: the caller sent no caller id (FreeSWITCH reports 0000000000). */
  calling?: string;
  task?: string;
  agent?: string;
  /** The caller hangs up this long after the call reached the app; 0 = right after. */
  hangupAfterMs?: number;
  /** Inbound mode: the park dialplan's sched_transfer fallback fires this long after the park. */
  fallbackAfterMs?: number;
}

/** What the double saw the app do with one call. */
export interface DoubleCallResult {
  uuid: string;
  variables: Record<string, string>;
  end: 'continue' | 'hangup' | 'caller-hangup';
  /** FreeSWITCH cause name of the hangup. */
  cause?: string;
  /** The app (or its socket) still held the call when the double stopped waiting. */
  leftInApp: boolean;
  /** Outbound mode: the app closed right after `connect`; FreeSWITCH leaves such a call parked. */
  parked: boolean;
  /** Where an inbound-mode allow sent the call (uuid_transfer arguments). */
  transfer?: string;
  /** From the channel data / CHANNEL_PARK leaving the double to the last command of the outcome arriving, ms. */
  latencyMs?: number;
  /** Outbound mode: from the channel data leaving the double to the app's `exit` arriving, ms (the app's own time). */
  appLatencyMs?: number;
  /** Outbound mode: the channel's 20 ms ticks from the channel data to the outcome (1 = one write). */
  ticks?: number;
  /** Commands the app sent for this call, first line each, in order. */
  commands: string[];
}

/**
 * Splits what the app writes into commands: a command line, header lines, an empty line. Each command
 * carries the time its bytes were read (performance.now() when the chunk holding its end arrived), so
 * the double's own work on earlier commands of the same chunk is not counted against the app.
 */
export class CommandSplitter {
  private buffer = '';

  constructor(
    private readonly onCommand: (line: string, headers: Record<string, string>, readAt: number) => void,
  ) {}

  push(chunk: Buffer, readAt = performance.now()): void {
    this.buffer += chunk.toString('utf8');
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end === -1) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const lines = block.split('\n');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(': ');
        if (i > 0) headers[line.slice(0, i)] = line.slice(i + 2);
      }
      this.onCommand(lines[0].trim(), headers, readAt);
    }
  }
}

export function callerIdOf(spec: DoubleCallSpec): string {
  return spec.calling === undefined || spec.calling === '' ? '0000000000' : spec.calling;
}

export function dialplanVars(spec: DoubleCallSpec): Record<string, string> {
  const vars: Record<string, string> = {};
  if (spec.tenant !== undefined) vars.CALLGUARD_TENANT = spec.tenant;
  vars.CALLGUARD_DIRECTION = spec.direction ?? 'inbound';
  if (spec.task !== undefined) vars.CALLGUARD_TASK = spec.task;
  if (spec.agent !== undefined) vars.CALLGUARD_AGENT = spec.agent;
  return vars;
}

export function bLegFacts(spec: DoubleCallSpec, context: string): ChannelFacts {
  return {
    uuid: randomUUID(),
    otherUuid: randomUUID(),
    calling: callerIdOf(spec),
    called: spec.called,
    context,
    leg: 'b',
    callDirection: 'inbound',
    vars: dialplanVars(spec),
  };
}

/** `set` app argument NAME=value; an empty value unsets, as in FreeSWITCH. */
export function applySet(vars: Record<string, string>, name: string, value: string): void {
  if (value === '') delete vars[name];
  else vars[name] = value;
}

export function callguardVars(vars: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, v] of Object.entries(vars)) if (n.startsWith('CALLGUARD_')) out[n] = v;
  return out;
}
