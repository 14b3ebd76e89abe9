import { DEFAULT_CALL_HANDLING } from '../../../src/call/call-plan.js';
import { StaticDeciderSource } from '../../../src/call/static-decider-source.js';
import type { BlocklistType } from '../../../src/domain/blocklist-type.js';
import type { Rule } from '../../../src/domain/rule.js';
import { DecisionEngine } from '../../../src/engine/decision-engine.js';

/** The tenants every adapter is screened against. Numbers are the ones in the recorded ARI traffic. */
export const ACME = 'acme';
/** Same rules as acme, but a block without a type continues so the dialplan plays an announcement. */
export const ANNOUNCE = 'announce';
/** Never loaded: the failure policy applies. */
export const GHOST = 'ghost';

export const CAMPAIGN_TASK = 'campaign-7';
export const DNC_GROUP = 'g-dnc';
export const WRAP_TYPE = 't-wrap';
export const POPUP_TYPE = 't-popup';

const at = 1_700_000_000_000;

export const CONTRACT_TYPES: BlocklistType[] = [
  { id: WRAP_TYPE, name: 'Do not call', operation: 'auto_wrap_up', businessResult: 'DNC' },
  {
    id: POPUP_TYPE,
    name: 'Ask a supervisor',
    operation: 'pop_up',
    promptContent: 'This number asked not to be called',
    jumpAddress: 'https://crm.example/contacts/18005550199',
    businessResult: 'SUPERVISOR',
  },
];

export const CONTRACT_RULES: Rule[] = [
  // outbound campaign blocklist, bound to the campaign's task
  {
    id: 1,
    called: '14045266123',
    direction: 'outbound',
    action: 'block',
    groupId: DNC_GROUP,
    typeId: WRAP_TYPE,
    updatedAt: at,
  },
  {
    id: 2,
    called: '_1800!',
    direction: 'outbound',
    action: 'block',
    groupId: DNC_GROUP,
    typeId: POPUP_TYPE,
    updatedAt: at,
  },
  // a global outbound block with no type: premium numbers
  { id: 3, called: '_1900!', direction: 'outbound', action: 'block', updatedAt: at },
  // inbound: a blocked range with an allow hole
  { id: 4, calling: '_1404555!', direction: 'inbound', action: 'block', updatedAt: at },
  { id: 5, calling: '14045550123', direction: 'inbound', action: 'allow', updatedAt: at },
  // inbound: no caller id
  { id: 6, calling: 'anonymous', direction: 'inbound', action: 'block', updatedAt: at },
];

export const CONTRACT_BINDINGS: [string, string[]][] = [[CAMPAIGN_TASK, [DNC_GROUP]]];

/** A decider source holding acme and announce (ghost is never loaded). */
export function contractSource(): StaticDeciderSource {
  const engine = DecisionEngine.fromRules(CONTRACT_RULES, {
    types: CONTRACT_TYPES,
    bindings: CONTRACT_BINDINGS,
  });
  return new StaticDeciderSource(DEFAULT_CALL_HANDLING)
    .set(ACME, engine, { mode: 'digits' })
    .set(ANNOUNCE, engine, { mode: 'digits' }, { ...DEFAULT_CALL_HANDLING, blockWithoutType: 'continue' });
}

/** The number rule 1 blocks outbound inside the campaign task; the inbound calls are placed to it too. */
export const DNC_NUMBER = '14045266123';

/** An acme inbound call to the DNC number from `calling` (undefined: no caller id). */
export const inboundCall = (calling: string | undefined, tenant = ACME) =>
  ({ tenant, direction: 'inbound', called: DNC_NUMBER, calling }) as const;

/** An outbound call from extension 201 to `called`. */
export const outboundCall = (
  called: string,
  extra: { tenant?: string; task?: string; agent?: string } = {},
) => ({ tenant: ACME, direction: 'outbound', called, calling: '201', ...extra }) as const;

/** Outbound, in the campaign task: the DNC group blocks it. */
export const BLOCKED_CALL = outboundCall(DNC_NUMBER, { task: CAMPAIGN_TASK });
/** Inbound from the allow hole: continues. */
export const ALLOWED_CALL = inboundCall('+14045550123');
