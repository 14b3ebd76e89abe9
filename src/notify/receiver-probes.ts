import type { Logger } from '../log.js';
import { backoffDelay } from './webhook-job.js';

export interface ReceiverProbesOptions {
  /** First wait; doubles (with jitter, so receivers of many tenants are not probed in step)... */
  readonly backoffMs: number;
  /** ...up to this. */
  readonly probeMaxMs: number;
  /** One try at a receiver (a tenant's target); resolves false when there is nothing left to try. */
  readonly tryOnce: (tenant: string, target: string) => Promise<boolean>;
  readonly log: Logger;
}

/**
 * One probe per failing receiver: while the receiver has a failing delivery, `tryOnce` runs after
 * the attempts' backoff capped low (`probeMaxMs`), so that a receiver that is back is noticed within
 * that time, however long its deliveries' own backoff has grown.
 */
export class ReceiverProbes {
  private readonly probes = new Map<string, { timer: NodeJS.Timeout | null; step: number }>();
  private closed = false;

  constructor(private readonly options: ReceiverProbesOptions) {}

  /** Starts the receiver's probe unless it runs. */
  start(tenant: string, target: string): void {
    const key = `${tenant}\u0000${target}`;
    if (this.closed || this.probes.has(key)) return;
    const probe = { timer: null as NodeJS.Timeout | null, step: 0 };
    this.probes.set(key, probe);
    const schedule = () => {
      probe.step++;
      probe.timer = setTimeout(
        tick,
        backoffDelay(probe.step, this.options.backoffMs, this.options.probeMaxMs),
      );
      probe.timer.unref();
    };
    const tick = () => {
      probe.timer = null;
      void this.options
        .tryOnce(tenant, target)
        .then((more) => {
          if (this.probes.get(key) !== probe) return;
          if (more && !this.closed) schedule();
          else this.probes.delete(key);
        })
        .catch((error: unknown) => {
          this.options.log.debug({ err: error, tenant }, 'webhook probe failed');
          if (this.probes.get(key) === probe && !this.closed) schedule();
        });
    };
    schedule();
  }

  /** The receiver answered: its probe stops (a new failure starts it again). */
  stop(tenant: string, target: string): void {
    const key = `${tenant}\u0000${target}`;
    const probe = this.probes.get(key);
    if (probe?.timer) clearTimeout(probe.timer);
    this.probes.delete(key);
  }

  close(): void {
    this.closed = true;
    for (const probe of this.probes.values()) if (probe.timer) clearTimeout(probe.timer);
    this.probes.clear();
  }
}
