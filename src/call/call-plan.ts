import type { CallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import { isPbxSafeText } from '../domain/pbx-text.js';
import type { CallEvent } from './call-events.js';
import type { IncomingCall } from './incoming-call.js';

export type FailureMode = 'fail-open' | 'fail-closed';

/** How a tenant wants its blocked calls carried out. */
export interface CallHandlingSettings {
  /** Q.850 cause for hang-ups (default 21, call rejected). */
  readonly hangupCause: number;
  /** A block with no type: hang up, or continue with CALLGUARD_RESULT=block so the dialplan can play an announcement. */
  readonly blockWithoutType: 'hangup' | 'continue';
  /** What to do with a call when no rule index was ever loaded for the tenant. */
  readonly failurePolicy: { readonly inbound: FailureMode; readonly outbound: FailureMode };
}

export const DEFAULT_CALL_HANDLING: CallHandlingSettings = Object.freeze({
  hangupCause: 21,
  blockWithoutType: 'hangup',
  failurePolicy: Object.freeze({ inbound: 'fail-open', outbound: 'fail-closed' }),
});

export type CallEnd = { readonly kind: 'continue' } | { readonly kind: 'hangup'; readonly cause: number };

/** What an adapter does with a call: set these channel variables in order, then end its handling so. */
export interface CallPlan {
  readonly result: 'allow' | 'block';
  readonly variables: ReadonlyArray<readonly [name: string, value: string]>;
  readonly end: CallEnd;
  readonly event?: CallEvent;
}

const CONTINUE: CallEnd = Object.freeze({ kind: 'continue' });

/** The one outcome → commands mapping both PBX adapters share (DESIGN.md section 3). */
export function planForDecision(
  call: IncomingCall,
  ctx: CallContext,
  decision: Decision,
  settings: CallHandlingSettings,
): CallPlan {
  const ruleId = decision.ruleId === null ? '' : String(decision.ruleId);
  if (decision.action === 'allow') {
    return {
      result: 'allow',
      variables: [
        ['CALLGUARD_RULE', ruleId],
        ['CALLGUARD_RESULT', 'allow'],
      ],
      end: CONTINUE,
    };
  }
  const hangup: CallEnd = { kind: 'hangup', cause: settings.hangupCause };
  const { outcome } = decision;
  const variables: Array<readonly [string, string]> = [['CALLGUARD_RULE', ruleId]];
  if (outcome.operation !== 'none') variables.push(['CALLGUARD_OPERATION', outcome.operation]);
  // A type stored before the API refused PBX-unsafe text: the variable is left out rather than
  // handed to a PBX that would evaluate it (the event still carries the text, as JSON).
  if (outcome.businessResult !== undefined && isPbxSafeText(outcome.businessResult))
    variables.push(['CALLGUARD_BUSINESS_RESULT', outcome.businessResult]);
  variables.push(['CALLGUARD_RESULT', 'block']);

  if (outcome.operation === 'none') {
    return { result: 'block', variables, end: settings.blockWithoutType === 'continue' ? CONTINUE : hangup };
  }
  const common = {
    tenant: call.tenant,
    callId: call.callId,
    direction: call.direction,
    task: call.task,
    agent: call.agent,
    number: call.direction === 'outbound' ? ctx.called : ctx.calling,
    called: ctx.called,
    calling: ctx.calling,
    businessResult: outcome.businessResult,
    ruleId: decision.ruleId ?? 0,
    typeId: outcome.typeId,
    at: new Date(ctx.at).toISOString(),
  };
  const event: CallEvent =
    outcome.operation === 'auto_wrap_up'
      ? { type: 'call.wrapped_up', ...common }
      : {
          type: 'agent.popup',
          ...common,
          promptContent: outcome.promptContent,
          jumpAddress: outcome.jumpAddress,
        };
  return { result: 'block', variables, end: hangup, event };
}

/** The plan when the tenant has no loaded index: the direction's failure policy. */
export function planForFailure(call: IncomingCall, settings: CallHandlingSettings): CallPlan {
  const mode = settings.failurePolicy[call.direction];
  if (mode === 'fail-open') {
    return { result: 'allow', variables: [['CALLGUARD_RESULT', 'allow']], end: CONTINUE };
  }
  return {
    result: 'block',
    variables: [['CALLGUARD_RESULT', 'block']],
    end: { kind: 'hangup', cause: settings.hangupCause },
  };
}
