import type { AuditRecord } from '../store/decision-log.js';

const DIRECTIONS = ['inbound', 'outbound'] as const;
const BASES = ['rule', 'default', 'failure-policy', 'policy'] as const;
const OPERATIONS = ['none', 'auto_wrap_up', 'pop_up'] as const;

/**
 * The audit buffer as columns: pushing a decision writes a few array slots and allocates nothing,
 * so the call path adds no garbage however many decisions wait for a write. Records become objects
 * only when they are written (and die young there). Full: the oldest is overwritten and counted.
 */
export class AuditRing {
  private readonly tenant: string[];
  private readonly callId: string[];
  private readonly called: string[];
  private readonly calling: string[];
  private readonly task: string[];
  private readonly agent: string[];
  /** "policy id\x1freason" of a contact policy refusal, else ''. */
  private readonly policy: string[];
  private readonly at: Float64Array;
  private readonly rule: Float64Array;
  /** bit 0 direction (outbound), bit 1 action (block), bits 2-3 basis, bits 4-5 operation. */
  private readonly codes: Uint8Array;
  private head = 0;
  size = 0;
  dropped = 0;

  constructor(
    readonly capacity: number,
    private readonly node: string,
  ) {
    this.tenant = new Array<string>(capacity).fill('');
    this.callId = new Array<string>(capacity).fill('');
    this.called = new Array<string>(capacity).fill('');
    this.calling = new Array<string>(capacity).fill('');
    this.task = new Array<string>(capacity).fill('');
    this.agent = new Array<string>(capacity).fill('');
    this.policy = new Array<string>(capacity).fill('');
    this.at = new Float64Array(capacity);
    this.rule = new Float64Array(capacity);
    this.codes = new Uint8Array(capacity);
  }

  // hot path
  push(
    tenant: string,
    at: number,
    callId: string,
    direction: string,
    called: string,
    calling: string,
    task: string,
    block: boolean,
    rule: number,
    basis: 0 | 1 | 2 | 3,
    operation: 0 | 1 | 2,
    agent: string,
    policy = '',
  ): void {
    let slot: number;
    if (this.size === this.capacity) {
      slot = this.head;
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
      this.dropped++;
    } else {
      slot = this.head + this.size;
      if (slot >= this.capacity) slot -= this.capacity;
      this.size++;
    }
    this.tenant[slot] = tenant;
    this.callId[slot] = callId;
    this.called[slot] = called;
    this.calling[slot] = calling;
    this.task[slot] = task;
    this.agent[slot] = agent;
    this.policy[slot] = policy;
    this.at[slot] = at;
    this.rule[slot] = rule;
    this.codes[slot] = (direction === 'outbound' ? 1 : 0) | (block ? 2 : 0) | (basis << 2) | (operation << 4);
  }

  private read(slot: number): AuditRecord {
    const c = this.codes[slot]!;
    const policy = this.policy[slot]!;
    const cut = policy.indexOf('\x1f');
    return {
      ...(policy === '' ? {} : { policy: { id: policy.slice(0, cut), reason: policy.slice(cut + 1) } }),
      tenant: this.tenant[slot]!,
      at: this.at[slot]!,
      callId: this.callId[slot]!,
      direction: DIRECTIONS[c & 1]!,
      called: this.called[slot]!,
      calling: this.calling[slot]!,
      task: this.task[slot]!,
      action: c & 2 ? 'block' : 'allow',
      rule: this.rule[slot]!,
      basis: BASES[(c >> 2) & 3]!,
      operation: OPERATIONS[(c >> 4) & 3]!,
      node: this.node,
      agent: this.agent[slot]!,
    };
  }

  /** Takes every record out, oldest first, and lets go of the strings they held. */
  drain(): AuditRecord[] {
    const out = new Array<AuditRecord>(this.size);
    for (let i = 0; i < this.size; i++) {
      let slot = this.head + i;
      if (slot >= this.capacity) slot -= this.capacity;
      out[i] = this.read(slot);
      this.tenant[slot] =
        this.callId[slot] =
        this.called[slot] =
        this.calling[slot] =
        this.task[slot] =
        this.agent[slot] =
          '';
      this.tenant[slot] = this.callId[slot] = this.called[slot] = this.calling[slot] = this.task[slot] = '';
      this.policy[slot] = '';
    }
    this.head = 0;
    this.size = 0;
    return out;
  }

  /** Puts records that could not be written back in front of newer ones; beyond the capacity the oldest go. */
  unshift(records: readonly AuditRecord[]): void {
    const newer = this.drain();
    const room = this.capacity - newer.length;
    const keep = records.length <= room ? records : records.slice(records.length - room);
    this.dropped += records.length - keep.length;
    for (const r of keep) this.pushRecord(r);
    for (const r of newer) this.pushRecord(r);
  }

  private pushRecord(r: AuditRecord): void {
    this.push(
      r.tenant,
      r.at,
      r.callId,
      r.direction,
      r.called,
      r.calling,
      r.task,
      r.action === 'block',
      r.rule,
      BASES.indexOf(r.basis) as 0 | 1 | 2 | 3,
      Math.max(0, OPERATIONS.indexOf(r.operation as (typeof OPERATIONS)[number])) as 0 | 1 | 2,
      r.agent,
      r.policy ? `${r.policy.id}\x1f${r.policy.reason}` : '',
    );
  }
}
