import { notifyKeys } from './keys.js';
import type { RedisClient } from './redis-client.js';

/** A webhook delivery that used up its attempts (or could never be made). The receiver's answer is not kept. */
/**
 * `Type` and `Target` name the event types and receiver kinds of the caller (src/notify's); the
 * store keeps them as text.
 */
export interface DeadLetter<Type extends string = string, Target extends string = string> {
  /** Position in the tenant's dead-letter stream; the id the API uses. */
  readonly id: string;
  readonly tenant: string;
  readonly eventId: string;
  readonly type: Type;
  readonly target: Target;
  readonly url: string;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string;
  readonly failedAt: string;
  /** The event envelope as sent (JSON). */
  readonly body: string;
}

/** What is kept of the delivery itself (a webhook job's data). */
export interface DeadDelivery<Type extends string = string, Target extends string = string> {
  readonly tenant: string;
  readonly eventId: string;
  readonly type: Type;
  readonly target: Target;
  readonly body: string;
}

export interface DeadLetterPage<Type extends string = string, Target extends string = string> {
  readonly items: DeadLetter<Type, Target>[];
  /** Pass as `before` for the next (older) page; null at the end. */
  readonly next: string | null;
}

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
export const isDeadLetterId = (id: string): boolean => STREAM_ID.test(id);

function decode<Type extends string, Target extends string>(
  tenant: string,
  [id, fields]: [string, string[]],
): DeadLetter<Type, Target> {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
  const status = f.get('status');
  return {
    id,
    tenant,
    eventId: f.get('eventId') ?? '',
    type: (f.get('type') ?? 'call.wrapped_up') as Type,
    target: (f.get('target') ?? 'campaignEngine') as Target,
    url: f.get('url') ?? '',
    attempts: Number(f.get('attempts') ?? 0),
    lastStatus: status ? Number(status) : null,
    lastError: f.get('error') ?? '',
    failedAt: new Date(Number(f.get('at') ?? 0)).toISOString(),
    body: f.get('body') ?? '',
  };
}

/** The per-tenant dead-letter list (a capped stream `cg:{tenant}:webhooks:dead`). */
export class DeadLetterRepository<Type extends string = string, Target extends string = string> {
  constructor(
    private readonly client: RedisClient,
    private readonly maxLen = 10_000,
  ) {}

  async add(
    job: DeadDelivery<Type, Target>,
    failure: { url: string; attempts: number; status?: number; error: string; at: number },
  ): Promise<string> {
    return (await this.client.xadd(
      notifyKeys(job.tenant).deadLetters,
      'MAXLEN',
      '~',
      this.maxLen,
      '*',
      'eventId',
      job.eventId,
      'type',
      job.type,
      'target',
      job.target,
      'url',
      failure.url,
      'attempts',
      failure.attempts,
      'status',
      failure.status === undefined ? '' : String(failure.status),
      'error',
      failure.error.slice(0, 500),
      'at',
      failure.at,
      'body',
      job.body,
    )) as string;
  }

  /** Newest first. */
  async list(
    tenant: string,
    options: { limit?: number; before?: string } = {},
  ): Promise<DeadLetterPage<Type, Target>> {
    const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
    const end = options.before && isDeadLetterId(options.before) ? `(${options.before}` : '+';
    const rows = (await this.client.xrevrange(
      notifyKeys(tenant).deadLetters,
      end,
      '-',
      'COUNT',
      limit + 1,
    )) as Array<[string, string[]]>;
    const items = rows.slice(0, limit).map((r) => decode<Type, Target>(tenant, r));
    return { items, next: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  async get(tenant: string, id: string): Promise<DeadLetter<Type, Target> | undefined> {
    if (!isDeadLetterId(id)) return undefined;
    const rows = (await this.client.xrange(notifyKeys(tenant).deadLetters, id, id)) as Array<
      [string, string[]]
    >;
    return rows[0] ? decode<Type, Target>(tenant, rows[0]) : undefined;
  }

  /** Removes one; true when it existed. */
  async remove(tenant: string, id: string): Promise<boolean> {
    if (!isDeadLetterId(id)) return false;
    return (await this.client.xdel(notifyKeys(tenant).deadLetters, id)) === 1;
  }

  async count(tenant: string): Promise<number> {
    return this.client.xlen(notifyKeys(tenant).deadLetters);
  }
}
