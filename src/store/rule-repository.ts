import { cgError } from '../domain/errors.js';
import type { Rule } from '../domain/rule.js';
import {
  jobKeys,
  type NumberSide,
  patternFixed,
  ruleBucketOf,
  SET_BUCKET_BITS,
  type TagDimension,
  tenantKeys,
} from './keys.js';
import type { RedisClient } from './redis-client.js';
import { checkedRule, decodeRule, encodeRule } from './rule-codec.js';
import { pipeScript, prepareScripts, runScript } from './scripts.js';
import { DEFAULT_STORE_OPTIONS, type StoreOptions, wholeSeconds } from './store-options.js';

/** What happens when a rule with identical conditions (conditionsKey) exists. */
export type DuplicateMode = 'reject' | 'skip' | 'override';

export type WriteStatus = 'created' | 'updated' | 'replaced' | 'skipped' | 'rejected' | 'not_found';
const STATUS: Record<string, WriteStatus> = {
  '1': 'created',
  '2': 'updated',
  '3': 'replaced',
  '0': 'skipped',
  '-1': 'rejected',
  '-2': 'not_found',
};

export interface WriteResult {
  readonly status: WriteStatus;
  /** The rule written, or for skipped/rejected the existing duplicate's id. */
  readonly id: number;
}

/** A rule to create: everything but the id; updatedAt defaults to now. */
export type RuleDraft = Omit<Rule, 'id' | 'updatedAt'> & { readonly updatedAt?: number };

export interface Page<T> {
  readonly items: T[];
  /** Pass back as `after` for the next page; undefined at the end. */
  readonly next: string | undefined;
}

export interface PageRequest {
  readonly after?: string;
  readonly limit?: number;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const limitOf = (limit: number | undefined): number =>
  Math.min(Math.max(limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
/** Characters of a number in character-code order: the order the number index is walked in. */
const NUMBER_CHARS = ['#', '*', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const TAG: Record<'group' | 'type' | 'ou', TagDimension> = { group: 'g', type: 't', ou: 'o' };

/**
 * Rules in Redis: bucketed listpack hashes (id → compact rule), with number, group, type, OU and
 * expiry indexes, each write atomic with its duplicate check and change record (write-rules-3.lua).
 */
export class RuleRepository {
  constructor(
    private readonly client: RedisClient,
    private readonly options: StoreOptions = DEFAULT_STORE_OPTIONS,
    private readonly now: () => number = Date.now,
  ) {
    prepareScripts(client);
  }

  private stamp(draft: RuleDraft | Rule, id: number): Rule {
    return checkedRule({ ...draft, id, updatedAt: draft.updatedAt ?? wholeSeconds(this.now()) } as Rule);
  }

  private scriptArgs(tenant: string, mode: DuplicateMode, emit: boolean, records: Array<[number, string]>) {
    const k = tenantKeys(tenant);
    const args: Array<string | number> = [k.prefix, mode, emit ? '1' : '0', this.options.streamMaxLen];
    for (const [id, enc] of records) args.push(id, enc);
    return { keys: [k.ruleSeq, k.changes, k.version], args };
  }

  private static results(raw: unknown): { version: string; results: WriteResult[] } {
    const arr = raw as Array<string | number>;
    const results: WriteResult[] = [];
    for (let i = 1; i < arr.length; i += 2) {
      const status = STATUS[String(arr[i])];
      if (status === undefined) throw cgError('CG_ERR_LIMIT_EXCEEDED', 'the tenant has used up its rule ids');
      results.push({ status, id: Number(arr[i + 1]) });
    }
    return { version: String(arr[0] ?? ''), results };
  }

  /** Creates one rule. A duplicate is rejected (CG_ERR_DUPLICATE_RULE), skipped or overridden. */
  async create(
    tenant: string,
    draft: RuleDraft,
    duplicates: DuplicateMode = 'reject',
  ): Promise<{ rule: Rule; status: WriteStatus; version: string }> {
    const stamped = this.stamp(draft, 1);
    const { keys, args } = this.scriptArgs(tenant, duplicates, true, [[0, encodeRule(stamped)]]);
    const { version, results } = RuleRepository.results(
      await runScript(this.client, 'write-rules-3', keys, args),
    );
    const r = results[0]!;
    if (r.status === 'rejected') {
      throw cgError(
        'CG_ERR_DUPLICATE_RULE',
        `rule ${r.id} has identical conditions; update it, or write with duplicates "skip" or "override"`,
        { existingId: r.id },
      );
    }
    const rule =
      r.status === 'skipped'
        ? ((await this.get(tenant, r.id)) ?? { ...stamped, id: r.id })
        : { ...stamped, id: r.id };
    return { rule, status: r.status, version };
  }

  /** Replaces rule `rule.id`. Another rule with identical conditions is rejected, or deleted with "override". */
  async update(
    tenant: string,
    rule: Omit<Rule, 'updatedAt'> & { updatedAt?: number },
    duplicates: 'reject' | 'override' = 'reject',
  ): Promise<{ rule: Rule; version: string }> {
    const stamped = this.stamp(rule, rule.id);
    const { keys, args } = this.scriptArgs(tenant, duplicates, true, [[rule.id, encodeRule(stamped)]]);
    const { version, results } = RuleRepository.results(
      await runScript(this.client, 'write-rules-3', keys, args),
    );
    const r = results[0]!;
    if (r.status === 'not_found') throw cgError('CG_ERR_NOT_FOUND', `rule ${rule.id} does not exist`);
    if (r.status === 'rejected') {
      throw cgError('CG_ERR_DUPLICATE_RULE', `rule ${r.id} has identical conditions`, { existingId: r.id });
    }
    return { rule: stamped, version };
  }

  /**
   * The bulk path: many rules through pipelined scripts of `batch` rules each, without per-rule
   * change records (emit false) — the caller publishes one reload with publishReload() afterwards.
   * Each script call is atomic; results come back in input order.
   */
  async writeMany(
    tenant: string,
    drafts: Iterable<RuleDraft | Rule>,
    options: { duplicates?: DuplicateMode; emit?: boolean; batch?: number; inFlight?: number } = {},
  ): Promise<WriteResult[]> {
    const batch = options.batch ?? 250;
    const perPipeline = options.inFlight ?? 8;
    const out: WriteResult[] = [];
    // Two pipelines in flight: Redis runs one while this process encodes the next.
    const sent: Array<Promise<Array<[Error | null, unknown]> | null>> = [];
    let pipeline = this.client.pipeline();
    let queued = 0;
    let records: Array<[number, string]> = [];
    const collect = async () => {
      const replies = (await sent.shift()!) ?? [];
      for (const [err, raw] of replies) {
        if (err) throw err;
        out.push(...RuleRepository.results(raw).results);
      }
    };
    const send = async () => {
      if (queued === 0) return;
      sent.push(pipeline.exec());
      pipeline = this.client.pipeline();
      queued = 0;
      if (sent.length >= 2) await collect();
    };
    const flushBatch = async () => {
      if (records.length === 0) return;
      const { keys, args } = this.scriptArgs(
        tenant,
        options.duplicates ?? 'skip',
        options.emit ?? false,
        records,
      );
      pipeScript(pipeline, 'write-rules-3', keys, args);
      records = [];
      if (++queued >= perPipeline) await send();
    };
    for (const draft of drafts) {
      const id = 'id' in draft && typeof draft.id === 'number' ? draft.id : 0;
      records.push([id, encodeRule(this.stamp(draft, id || 1))]);
      if (records.length >= batch) await flushBatch();
    }
    await flushBatch();
    await send();
    while (sent.length > 0) await collect();
    return out;
  }

  /** Deletes rules; returns the ids that existed and the change version. */
  async delete(tenant: string, ids: readonly number[]): Promise<{ deleted: number[]; version: string }> {
    if (ids.length === 0) return { deleted: [], version: '' };
    const k = tenantKeys(tenant);
    const raw = (await runScript(
      this.client,
      'delete-rules-3',
      [k.ruleSeq, k.changes, k.version],
      [k.prefix, '1', this.options.streamMaxLen, ...ids],
    )) as Array<string | number>;
    return { version: String(raw[0]), deleted: raw.slice(1).map(Number) };
  }

  /**
   * Overwrite-all, after its file: deletes the rules of the OU + group scope that import job `jobId`
   * did not write or match (the seen marks its batches left), without change records (the job's
   * reload carries the deletion to the call nodes). Idempotent: the count goes on in the job's progress
   * (`deleted`), so a resumed purge returns the whole total.
   */
  async purgeUnseen(tenant: string, jobId: string, scope: { ou: string; groupId?: string }): Promise<number> {
    const t = tenantKeys(tenant);
    const k = jobKeys(tenant, jobId);
    const buckets = (await this.client.smembers(t.tagDir('o', scope.ou))).map(Number).sort((a, b) => a - b);
    let deleted = Number((await this.client.hget(k.progress, 'deleted')) ?? 0);
    for (const b of buckets) {
      const ids = (await this.client.smembers(t.tagBucket('o', b, scope.ou))).map(Number);
      if (ids.length === 0) continue;
      const inScope = (await this.getMany(tenant, ids)).filter((r) => r.groupId === scope.groupId);
      if (inScope.length === 0) continue;
      const seen = await this.client.smismember(k.seenBucket(b), ...inScope.map((r) => String(r.id)));
      const gone = inScope.filter((_, i) => seen[i] === 0).map((r) => r.id);
      if (gone.length === 0) continue;
      const raw = (await runScript(
        this.client,
        'delete-rules-3',
        [t.ruleSeq, t.changes, t.version],
        [t.prefix, '0', this.options.streamMaxLen, ...gone],
      )) as unknown[];
      deleted += raw.length - 1;
      await this.client.hincrby(k.progress, 'deleted', raw.length - 1);
    }
    return deleted;
  }

  /** Forgets the seen marks of import job `jobId` over the OU (after its purge, or when it is dropped). */
  async dropSeen(tenant: string, jobId: string, ou: string): Promise<void> {
    const k = jobKeys(tenant, jobId);
    const buckets = await this.client.smembers(tenantKeys(tenant).tagDir('o', ou));
    const keys = [...new Set(buckets)].map((b) => k.seenBucket(Number(b)));
    for (let i = 0; i < keys.length; i += 500) await this.client.del(...keys.slice(i, i + 500));
  }

  /** Purges expired rules (bounded batches) and announces them; returns how many were purged. */
  async purgeExpired(tenant: string, at = this.now(), batch = 5000): Promise<number> {
    const k = tenantKeys(tenant);
    let total = 0;
    for (let round = 0; round < 1000; round++) {
      const raw = (await runScript(
        this.client,
        'purge-expired-3',
        [k.expiryDir, k.changes, k.version],
        [k.prefix, Math.floor(at / 1000), batch, this.options.streamMaxLen],
      )) as unknown[];
      total += raw.length - 1;
      if (raw.length - 1 < batch) break;
    }
    return total;
  }

  async get(tenant: string, id: number): Promise<Rule | undefined> {
    return (await this.getMany(tenant, [id]))[0];
  }

  /** The rules with these ids that exist, in the order asked. */
  async getMany(tenant: string, ids: readonly number[]): Promise<Rule[]> {
    if (ids.length === 0) return [];
    const k = tenantKeys(tenant);
    const byBucket = new Map<number, number[]>();
    for (const id of ids) {
      const b = ruleBucketOf(id);
      const list = byBucket.get(b);
      if (list) list.push(id);
      else byBucket.set(b, [id]);
    }
    const pipeline = this.client.pipeline();
    const order = [...byBucket];
    for (const [b, list] of order) pipeline.hmget(k.ruleBucket(b), ...list.map(String));
    const replies = (await pipeline.exec()) ?? [];
    const found = new Map<number, Rule>();
    order.forEach(([, list], i) => {
      const [err, values] = replies[i]!;
      if (err) throw err;
      (values as Array<string | null>).forEach((v, j) => {
        if (v !== null) found.set(list[j]!, decodeRule(list[j]!, v));
      });
    });
    return ids.flatMap((id) => {
      const r = found.get(id);
      return r ? [r] : [];
    });
  }

  /** The highest id ever given out (0 when none). */
  async maxId(tenant: string): Promise<number> {
    return Number((await this.client.get(tenantKeys(tenant).ruleSeq)) ?? 0);
  }

  /** Every rule, in id order, a bucket range at a time (the reload / snapshot build path). */
  async *scan(tenant: string, bucketsPerRound = 64): AsyncGenerator<Rule[]> {
    const k = tenantKeys(tenant);
    const last = ruleBucketOf(await this.maxId(tenant));
    for (let from = 0; from <= last; from += bucketsPerRound) {
      const pipeline = this.client.pipeline();
      const to = Math.min(last, from + bucketsPerRound - 1);
      for (let b = from; b <= to; b++) pipeline.hgetall(k.ruleBucket(b));
      const replies = (await pipeline.exec()) ?? [];
      const rules: Rule[] = [];
      for (const [err, value] of replies) {
        if (err) throw err;
        const entries = Object.entries(value as Record<string, string>);
        entries.sort((a, b) => Number(a[0]) - Number(b[0]));
        for (const [id, enc] of entries) rules.push(decodeRule(Number(id), enc));
      }
      yield rules;
    }
  }

  /** All rules in id order, paged; `after` is the last id seen. */
  async list(tenant: string, page: PageRequest = {}): Promise<Page<Rule>> {
    const limit = limitOf(page.limit);
    const after = Number(page.after ?? 0);
    const k = tenantKeys(tenant);
    const last = ruleBucketOf(await this.maxId(tenant));
    const items: Rule[] = [];
    for (let b = ruleBucketOf(after + 1); b <= last && items.length < limit; b++) {
      const value = await this.client.hgetall(k.ruleBucket(b));
      const ids = Object.keys(value)
        .map(Number)
        .filter((id) => id > after)
        .sort((x, y) => x - y);
      for (const id of ids) {
        if (items.length >= limit) break;
        items.push(decodeRule(id, value[String(id)]!));
      }
    }
    const more =
      items.length === limit && (await this.hasRuleAfter(tenant, items[items.length - 1]!.id, last));
    return { items, next: more ? String(items[items.length - 1]!.id) : undefined };
  }

  private async hasRuleAfter(tenant: string, id: number, lastBucket: number): Promise<boolean> {
    const k = tenantKeys(tenant);
    for (let b = ruleBucketOf(id); b <= lastBucket; b++) {
      const ids = await this.client.hkeys(k.ruleBucket(b));
      if (ids.some((x) => Number(x) > id)) return true;
    }
    return false;
  }

  /** Rules of a group, type or OU in id order, paged; `after` is the last id seen. */
  async listBy(
    tenant: string,
    by: 'group' | 'type' | 'ou',
    value: string,
    page: PageRequest = {},
  ): Promise<Page<Rule>> {
    const limit = limitOf(page.limit);
    const after = Number(page.after ?? 0);
    const k = tenantKeys(tenant);
    const dim = TAG[by];
    const buckets = (await this.client.smembers(k.tagDir(dim, value)))
      .map(Number)
      .filter((b) => b >= Math.floor((after + 1) / 2 ** SET_BUCKET_BITS))
      .sort((x, y) => x - y);
    const ids: number[] = [];
    for (const b of buckets) {
      const members = (await this.client.smembers(k.tagBucket(dim, b, value)))
        .map(Number)
        .filter((id) => id > after)
        .sort((x, y) => x - y);
      ids.push(...members);
      if (ids.length > limit) break;
    }
    const page1 = ids.slice(0, limit);
    const items = await this.getMany(tenant, page1);
    return { items, next: ids.length > limit ? String(page1[page1.length - 1]) : undefined };
  }

  /** The number-index bucket holding `fixed`: the first of its prefixes that is not split. */
  private async numberLeaf(tenant: string, side: NumberSide, fixed: string): Promise<string> {
    if (fixed === 'anonymous') return 'anon';
    const k = tenantKeys(tenant);
    const pipeline = this.client.pipeline();
    for (let n = 0; n < fixed.length; n++) pipeline.sismember(k.numberSplits(side), fixed.slice(0, n));
    const split = ((await pipeline.exec()) ?? []).map(([, v]) => v === 1);
    const depth = split.indexOf(false);
    return fixed.slice(0, depth === -1 ? fixed.length : depth);
  }

  /** Rules whose called or calling pattern is exactly this canonical text (a number or a pattern). */
  async findByPattern(tenant: string, text: string, side?: 'called' | 'calling'): Promise<Rule[]> {
    const k = tenantKeys(tenant);
    const sides: NumberSide[] = side === undefined ? ['c', 'g'] : [side === 'called' ? 'c' : 'g'];
    const ids = new Set<number>();
    for (const s of sides) {
      const leaf = await this.numberLeaf(tenant, s, patternFixed(text));
      const v = await this.client.hget(k.numberBucket(s, leaf), text);
      for (const id of v ? v.split(',') : []) ids.add(Number(id));
    }
    return this.getMany(
      tenant,
      [...ids].sort((a, b) => a - b),
    );
  }

  /**
   * Walks the number-index buckets under `prefix` in order (a split bucket first holds the texts that
   * end at its prefix, then come its children by character code: # * 0-9), skipping whole subtrees
   * that sort before `from`.
   */
  private async *bucketsUnder(
    tenant: string,
    side: NumberSide,
    prefix: string,
    from: string,
  ): AsyncGenerator<Record<string, string>> {
    const k = tenantKeys(tenant);
    const leaf = await this.numberLeaf(tenant, side, prefix);
    const isSplit = leaf === prefix && (await this.client.sismember(k.numberSplits(side), prefix)) === 1;
    if (!isSplit) {
      yield await this.client.hgetall(k.numberBucket(side, leaf));
      return;
    }
    const stack: Array<[prefix: string, split: boolean]> = [[prefix, true]];
    for (let steps = 0; stack.length > 0 && steps < 10_000_000; steps++) {
      const [node, split] = stack.pop()!;
      yield await this.client.hgetall(k.numberBucket(side, node));
      if (!split) continue;
      const children = NUMBER_CHARS.map((c) => node + c).filter((c) => from.startsWith(c) || c >= from);
      const pipeline = this.client.pipeline();
      for (const c of children) pipeline.sismember(k.numberSplits(side), c);
      const flags = ((await pipeline.exec()) ?? []).map(([, v]) => v === 1);
      // Depth first in order: push the children in reverse.
      for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, flags[i]!]);
    }
  }

  /**
   * Rules whose pattern's literal digits start with `prefix`, ordered by side, digits, pattern text
   * and id, paged; `after` is an opaque cursor from the previous page.
   */
  async findByPrefix(
    tenant: string,
    prefix: string,
    options: PageRequest & { side?: 'called' | 'calling' } = {},
  ): Promise<Page<Rule>> {
    const limit = limitOf(options.limit);
    const sides: NumberSide[] =
      options.side === undefined ? ['c', 'g'] : [options.side === 'called' ? 'c' : 'g'];
    type Hit = [side: string, fixed: string, text: string, id: number];
    const key = (h: Hit) => `${h[0]}\u0000${h[1]}\u0000${h[2]}\u0000${String(h[3]).padStart(10, '0')}`;
    const cursor = options.after
      ? (JSON.parse(Buffer.from(options.after, 'base64url').toString()) as Hit)
      : undefined;
    const after = cursor ? key(cursor) : '';
    const hits: Hit[] = [];
    for (const side of sides) {
      if (cursor && side < cursor[0]) continue;
      const from = cursor && cursor[0] === side ? cursor[1] : '';
      for await (const bucket of this.bucketsUnder(tenant, side, prefix, from)) {
        const found: Hit[] = [];
        for (const [text, ids] of Object.entries(bucket)) {
          const fixed = patternFixed(text);
          if (!fixed.startsWith(prefix)) continue;
          for (const id of ids.split(',')) {
            const hit: Hit = [side, fixed, text, Number(id)];
            if (key(hit) > after) found.push(hit);
          }
        }
        found.sort((a, b) => (key(a) < key(b) ? -1 : 1));
        hits.push(...found);
        if (hits.length > limit) break;
      }
      if (hits.length > limit) break;
    }
    const page = hits.slice(0, limit);
    const items = await this.getMany(
      tenant,
      page.map((h) => h[3]),
    );
    const last = page[page.length - 1];
    return {
      items,
      next: hits.length > limit && last ? Buffer.from(JSON.stringify(last)).toString('base64url') : undefined,
    };
  }

  /** Records a reload after a bulk write: nodes reload the tenant's rules as one change. */
  async publishReload(tenant: string, scope = 'all'): Promise<string> {
    const k = tenantKeys(tenant);
    return String(
      await runScript(
        this.client,
        'append-change-2',
        [k.changes, k.version],
        [this.options.streamMaxLen, 'op', 'rl', 'scope', scope],
      ),
    );
  }
}
