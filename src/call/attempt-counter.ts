import type { AttemptTally } from '../domain/attempt-buckets.js';

/**
 * A node's view of outbound attempts per counting key, per tenant. Both methods are synchronous and
 * never wait: a shared implementation (src/store) merges with the other nodes in the background.
 */
export interface AttemptCounter {
  /** The attempts counted so far under a key (this node's and, as last merged, the others'). */
  tallyOf(tenant: string, key: string): AttemptTally | undefined;
  /** One allowed attempt: adds one to each field of each key. */
  add(tenant: string, increments: ReadonlyMap<string, readonly string[]>): void;
  /** A tenant with caps: start keeping its counts now, before its first call. */
  follow?(tenant: string): void;
}

/** Counts in this process only: the offline checker and single-node tests. */
export class LocalAttemptCounter implements AttemptCounter {
  private readonly tenants = new Map<string, Map<string, Map<string, number>>>();

  tallyOf(tenant: string, key: string): AttemptTally | undefined {
    return this.tenants.get(tenant)?.get(key);
  }

  add(tenant: string, increments: ReadonlyMap<string, readonly string[]>): void {
    let keys = this.tenants.get(tenant);
    if (!keys) {
      keys = new Map();
      this.tenants.set(tenant, keys);
    }
    for (const [key, fields] of increments) {
      let tally = keys.get(key);
      if (!tally) {
        tally = new Map();
        keys.set(key, tally);
      }
      for (const f of fields) tally.set(f, (tally.get(f) ?? 0) + 1);
    }
  }
}
