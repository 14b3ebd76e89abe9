// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} here is FreeSWITCH syntax under test, not a template
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { MemoryEventSink } from '../../../src/call/call-events.js';
import { DEFAULT_CALL_HANDLING } from '../../../src/call/call-plan.js';
import { StaticDeciderSource } from '../../../src/call/static-decider-source.js';
import type { BlocklistType } from '../../../src/domain/blocklist-type.js';
import { DecisionEngine } from '../../../src/engine/decision-engine.js';
import { memoryLogger } from '../../support/memory-logger.js';
import type { PbxHarness, PlacedCall } from './call-handling-contract.js';
import { CONTRACT_RULES, DNC_GROUP, DNC_NUMBER, WRAP_TYPE } from './contract-tenants.js';

/** Everything the API accepts in a businessResult that a PBX could be tempted to read: it must arrive as is. */
export const AWKWARD_BUT_ALLOWED = 'Don"t call: 50% off; a=b, (c) & d! #1 *2 @x ~y $5 {z} $HOME Ünïcode ✓';
/** What FreeSWITCH would evaluate (recorded: e-set-expands-variables). Stored before the API refused it. */
export const EVALUATED_BY_FREESWITCH = 'Y=${strftime(%Y)} U=${uuid}';

/** Tenant, task and agent exactly as a dialplan may set them (names the API could have stored). */
const TENANT = 'acme.eu_1-2';
const TASK = "camp ${uuid} 'q' %20";
const AGENT = 'agent "x" $${hostname}';

function sourceWith(businessResult: string): StaticDeciderSource {
  const types: BlocklistType[] = [
    { id: WRAP_TYPE, name: 'Do not call', operation: 'auto_wrap_up', businessResult },
  ];
  const engine = DecisionEngine.fromRules(
    CONTRACT_RULES.filter((r) => r.id === 1),
    { types, bindings: [[TASK, [DNC_GROUP]]] },
  );
  return new StaticDeciderSource(DEFAULT_CALL_HANDLING).set(TENANT, engine, { mode: 'digits' });
}

const CALL: PlacedCall = {
  tenant: TENANT,
  direction: 'outbound',
  called: DNC_NUMBER,
  calling: '201',
  task: TASK,
  agent: AGENT,
};

async function place(makeHarness: () => PbxHarness, businessResult: string) {
  const harness = makeHarness();
  const events = new MemoryEventSink();
  await harness.start({ source: sourceWith(businessResult), events, logger: memoryLogger().logger });
  try {
    return { r: await harness.placeCall(CALL), events: events.events };
  } finally {
    await harness.stop();
  }
}

/**
 * Issue 25 item 1 for one adapter: every value callguard writes into the channel arrives as exactly
 * the characters stored, and text the PBX would evaluate is never written at all.
 */
export function runPbxTextContract(name: string, makeHarness: () => PbxHarness): void {
  describe(`${name}: what callguard writes reaches the channel unchanged`, () => {
    it('every-value-set-on-the-channel-is-the-stored-text', async () => {
      const { r, events } = await place(makeHarness, AWKWARD_BUT_ALLOWED);
      assert.equal(r.end, 'hangup');
      assert.equal(r.variables.CALLGUARD_RESULT, 'block');
      assert.equal(r.variables.CALLGUARD_RULE, '1');
      assert.equal(r.variables.CALLGUARD_OPERATION, 'auto_wrap_up');
      assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, AWKWARD_BUT_ALLOWED);
      // what the dialplan set is read, never written back (on ESL the channel still shows it as set)
      for (const [variable, value] of [
        ['CALLGUARD_TENANT', TENANT],
        ['CALLGUARD_TASK', TASK],
        ['CALLGUARD_AGENT', AGENT],
      ]) {
        if (variable in r.variables) assert.equal(r.variables[variable], value, variable);
      }
      assert.equal(events.length, 1);
      assert.equal(events[0].task, TASK);
      assert.equal(events[0].agent, AGENT);
    });

    it('text-the-pbx-would-evaluate-is-never-written', async () => {
      const { r, events } = await place(makeHarness, EVALUATED_BY_FREESWITCH);
      assert.equal(r.end, 'hangup', 'the call is still blocked');
      assert.equal(r.variables.CALLGUARD_OPERATION, 'auto_wrap_up');
      assert.equal(r.variables.CALLGUARD_BUSINESS_RESULT, undefined);
      // the webhook carries the text as stored (JSON evaluates nothing)
      assert.equal(events[0].businessResult, EVALUATED_BY_FREESWITCH);
    });
  });
}
