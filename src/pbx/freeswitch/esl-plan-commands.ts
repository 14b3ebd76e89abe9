import type { CallPlan } from '../call-plan.js';
import { freeswitchCauseName } from '../hangup-causes.js';
import { encodeCommand, encodeSendmsg } from './esl-codec.js';

/**
 * Outbound socket mode: the plan as sendmsg commands to the controlled channel, to be written in one
 * go. Each `set` carries `event-lock: true` so FreeSWITCH runs them in order before the hangup that
 * follows in the same tick (recorded: a-blocked-pipelined). When the call continues, the last `set`
 * carries `Event-UUID`; its CHANNEL_EXECUTE_COMPLETE (Application-UUID) says the variables are in
 * place and the socket may let go.
 */
export function outboundPlanCommands(plan: CallPlan, lastSetId: string): string[] {
  const out: string[] = [];
  const last = plan.variables.length - 1;
  plan.variables.forEach(([name, value], i) => {
    const headers: Record<string, string> = {
      'call-command': 'execute',
      'execute-app-name': 'set',
      'execute-app-arg': `${name}=${value}`,
      'event-lock': 'true',
    };
    if (i === last && plan.end.kind === 'continue') headers['Event-UUID'] = lastSetId;
    out.push(encodeSendmsg(headers));
  });
  if (plan.end.kind === 'hangup') {
    out.push(
      encodeSendmsg({ 'call-command': 'hangup', 'hangup-cause': freeswitchCauseName(plan.end.cause) }),
    );
  }
  return out;
}

export interface InboundTarget {
  readonly uuid: string;
  /** Where an allowed (or announced) call goes back into the dialplan. */
  readonly destination: string;
  readonly context: string;
}

/**
 * Inbound mode: the plan as `api` commands on the shared connection, written in one go. Variables
 * first (api runs them at once, in order), then the end: uuid_kill with the cause, or uuid_transfer
 * back to the dialplan.
 */
export function inboundPlanCommands(plan: CallPlan, target: InboundTarget): string[] {
  const out = plan.variables.map(([name, value]) =>
    encodeCommand(
      value === ''
        ? `api uuid_setvar ${target.uuid} ${name}`
        : `api uuid_setvar ${target.uuid} ${name} ${value}`,
    ),
  );
  out.push(
    plan.end.kind === 'hangup'
      ? encodeCommand(`api uuid_kill ${target.uuid} ${freeswitchCauseName(plan.end.cause)}`)
      : encodeCommand(`api uuid_transfer ${target.uuid} ${target.destination} XML ${target.context}`),
  );
  return out;
}

/** Inbound mode, a channel that cannot be screened: back to the dialplan with no result (its failure policy acts). */
export function inboundReleaseCommand(target: InboundTarget): string {
  return encodeCommand(`api uuid_transfer ${target.uuid} ${target.destination} XML ${target.context}`);
}

/** FreeSWITCH's answer to api uuid_* on a channel that is gone (recorded: plain-api-misc). */
export const isNoSuchChannel = (text: string): boolean => text.startsWith('-ERR No such channel');
