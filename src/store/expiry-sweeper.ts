import type { Logger } from '../log.js';
import type { RuleRepository } from './rule-repository.js';
import type { TenantRepository } from './tenant-repository.js';

/**
 * Purges expired rules of every tenant on a timer; each purge is announced on the change stream, so
 * every node drops them too (an expired rule already never matches; this frees the memory). Safe to
 * run on several nodes: the purge script is atomic and idempotent.
 */
export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly rules: RuleRepository,
    private readonly tenants: TenantRepository,
    private readonly log: Logger,
    private readonly everyMs = 60_000,
  ) {}

  start(): this {
    this.timer ??= setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .finally(() => {
          this.running = undefined;
        });
    }, this.everyMs);
    this.timer.unref();
    return this;
  }

  /** One pass over every tenant; returns the rules purged per tenant (those with none left out). */
  async sweep(at = Date.now()): Promise<Map<string, number>> {
    const purged = new Map<string, number>();
    for (const tenant of await this.tenants.ids()) {
      try {
        const n = await this.rules.purgeExpired(tenant, at);
        if (n > 0) {
          purged.set(tenant, n);
          this.log.info({ tenant, purged: n }, 'expired rules purged');
        }
      } catch (error) {
        this.log.warn(
          { tenant, err: (error as Error).message },
          'expired rule purge failed; retrying next round',
        );
      }
    }
    return purged;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
