import type { CallContext } from '../src/domain/call-context.js';
import type { Rule } from '../src/domain/rule.js';

/** A deterministic 32-bit PRNG (mulberry32), so every run measures the same rules and calls. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digits = (rand: () => number, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(48 + Math.floor(rand() * 10));
  return s;
};

export const NOW = Date.UTC(2026, 10, 22);
export const GROUPS = Array.from({ length: 50 }, (_, i) => `campaign-${i}`);
export const TASKS: [string, string[]][] = Array.from({ length: 20 }, (_, i) => [
  `task-${i}`,
  [GROUPS[i], GROUPS[i + 20]],
]);

/** The exact number of rule i: 80% called-side (outbound DNC lists), 20% calling-side (inbound spam lists). */
export function exactNumber(i: number): { side: 'called' | 'calling'; number: string } {
  const rand = prng(i * 2654435761);
  return i % 5 === 4
    ? { side: 'calling', number: `44${digits(rand, 10)}` }
    : { side: 'called', number: `1${digits(rand, 10)}` };
}

/**
 * A carrier-sized tenant, generated lazily (no array of ten million objects): `exact` exact-number
 * rules (with groups, types and expiry like AICC lists) and `patterns` prefix / range rules on both
 * sides, some scoped, some allow holes.
 */
export function* syntheticRules(exact: number, patterns: number): Generator<Rule> {
  let id = 1;
  for (let i = 0; i < exact; i++) {
    const { side, number } = exactNumber(i);
    const grouped = i % 3 === 0;
    yield {
      id: id++,
      [side]: number,
      direction: side === 'called' ? 'outbound' : 'inbound',
      action: i % 50 === 0 ? 'allow' : 'block',
      ...(grouped ? { groupId: GROUPS[i % GROUPS.length], typeId: `type-${i % 4}` } : {}),
      ...(i % 7 === 0 ? { expiresAt: NOW + ((i % 11) - 2) * 86_400_000 } : {}),
      updatedAt: NOW - (i % 1000) * 1000,
    } as Rule;
  }
  const rand = prng(7);
  for (let i = 0; i < patterns; i++) {
    const kind = i % 4;
    const side = i % 5 === 0 ? 'calling' : 'called';
    const cc = side === 'called' ? '1' : '44';
    const pattern =
      kind === 0
        ? `_${cc}${digits(rand, 6 + (i % 4))}!`
        : kind === 1
          ? `_${cc}${digits(rand, 6 + (i % 4))}.`
          : `_${cc}${digits(rand, 6 + (i % 3))}${'X'.repeat(10 - cc.length + 1 - 6 - (i % 3))}`;
    yield {
      id: id++,
      [side]: pattern,
      direction: i % 3 === 0 ? 'both' : side === 'called' ? 'outbound' : 'inbound',
      action: i % 9 === 0 ? 'allow' : 'block',
      ...(i % 10 === 0 ? { user: `user-${i % 100}` } : {}),
      ...(i % 13 === 0 ? { groupId: GROUPS[i % GROUPS.length] } : {}),
      updatedAt: NOW - (i % 1000) * 1000,
    } as Rule;
  }
}

/** `count` calls: 90% miss every exact rule, 10% hit one; random tasks, users and directions. */
export function syntheticCalls(count: number, exact: number, seed = 99): CallContext[] {
  const rand = prng(seed);
  const calls: CallContext[] = [];
  for (let i = 0; i < count; i++) {
    const hit = rand() < 0.1 && exact > 0;
    let called = `1${digits(rand, 10)}`;
    let calling = rand() < 0.5 ? `44${digits(rand, 10)}` : `1${digits(rand, 10)}`;
    let direction: 'inbound' | 'outbound' = rand() < 0.5 ? 'outbound' : 'inbound';
    if (hit) {
      const n = exactNumber(Math.floor(rand() * exact));
      if (n.side === 'called') {
        called = n.number;
        direction = 'outbound';
      } else {
        calling = n.number;
        direction = 'inbound';
      }
    }
    const task = rand() < 0.5 ? TASKS[Math.floor(rand() * TASKS.length)][0] : undefined;
    calls.push({
      called,
      calling,
      direction,
      task,
      user: rand() < 0.2 ? `user-${Math.floor(rand() * 100)}` : undefined,
      at: NOW,
    });
  }
  return calls;
}
