import type { CallPlan } from '../../call/call-plan.js';
import { freeswitchCauseName } from '../../call/hangup-causes.js';
import { encodeCommand, encodeSendmsg } from './esl-codec.js';

const RESUME = encodeCommand('resume');
const EXIT = encodeCommand('exit');

/**
 * Outbound socket mode: the whole outcome as commands to the controlled channel, written in one go
 * right after the connect reply. Each `set` carries `event-lock: true`, so FreeSWITCH runs the queued
 * messages in order in the channel's next 20 ms tick; then the hangup, or `resume` for a call that
 * goes on; then `exit`. FreeSWITCH answers `exit` at once, but the messages already queued still run
 * before the dialplan goes on (recorded: b-allowed-pipelined, both variables set, dialplan on in one
 * tick; a-blocked-pipelined for set + hangup). Nothing is waited for, so no events are needed.
 */
export function outboundPlanCommands(plan: CallPlan): string[] {
  const out = plan.variables.map(([name, value]) =>
    encodeSendmsg({
      'call-command': 'execute',
      'execute-app-name': 'set',
      'execute-app-arg': `${name}=${value}`,
      'event-lock': 'true',
    }),
  );
  out.push(
    plan.end.kind === 'hangup'
      ? encodeSendmsg({ 'call-command': 'hangup', 'hangup-cause': freeswitchCauseName(plan.end.cause) })
      : RESUME,
  );
  out.push(EXIT);
  return out;
}

export interface InboundTarget {
  readonly uuid: string;
  /** Where an allowed (or announced) call goes back into the dialplan. */
  readonly destination: string;
  readonly context: string;
}

/**
 * Inbound mode: the plan as `api` commands on the shared connection, written in one go. First
 * `sched_del <uuid>`: the park dialplan schedules a fallback transfer (its failure policy when
 * nobody acts), which must not fire once callguard has acted. Then the variables (api runs them at
 * once, in order; uuid_setvar sets the value as given, without expanding it), then the end:
 * uuid_kill with the cause, or uuid_transfer back to the dialplan.
 */
export function inboundPlanCommands(plan: CallPlan, target: InboundTarget): string[] {
  const out = [cancelFallback(target)];
  for (const [name, value] of plan.variables) {
    out.push(
      encodeCommand(
        value === ''
          ? `api uuid_setvar ${target.uuid} ${name}`
          : `api uuid_setvar ${target.uuid} ${name} ${value}`,
      ),
    );
  }
  out.push(plan.end.kind === 'hangup' ? kill(target, plan.end.cause) : transfer(target));
  return out;
}

/** Inbound mode, a channel that cannot be screened: back to the dialplan with no result (its failure policy acts). */
export function inboundReleaseCommands(target: InboundTarget): string[] {
  return [cancelFallback(target), transfer(target)];
}

/** Inbound mode, a channel that cannot be handed back (its destination is not a dialable number). */
export function inboundHangupCommands(target: InboundTarget, q850: number): string[] {
  return [cancelFallback(target), kill(target, q850)];
}

const cancelFallback = (t: InboundTarget) => encodeCommand(`api sched_del ${t.uuid}`);
const kill = (t: InboundTarget, q850: number) =>
  encodeCommand(`api uuid_kill ${t.uuid} ${freeswitchCauseName(q850)}`);
const transfer = (t: InboundTarget) =>
  encodeCommand(`api uuid_transfer ${t.uuid} ${t.destination} XML ${t.context}`);

/** FreeSWITCH's answer to api uuid_* on a channel that is gone (recorded: plain-api-misc). */
export const isNoSuchChannel = (text: string): boolean => text.startsWith('-ERR No such channel');
