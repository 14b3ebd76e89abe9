import type { CallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import type { NormalizationPolicy } from '../domain/number.js';
import type { CallHandlingSettings } from './call-plan.js';
import { DEFAULT_CALL_HANDLING } from './call-plan.js';
import type { DeciderSource, TenantDecider } from './call-screener.js';

interface Decides {
  decide(ctx: CallContext): Decision;
}

/** A fixed set of tenants' engines: the offline CLI and the PBX tests use it; the live node uses the Redis sync. */
export class StaticDeciderSource implements DeciderSource {
  private readonly tenants = new Map<string, TenantDecider>();

  constructor(private readonly handling: CallHandlingSettings = DEFAULT_CALL_HANDLING) {}

  set(tenant: string, engine: Decides, policy: NormalizationPolicy, handling = this.handling): this {
    this.tenants.set(tenant, { policy, handling, decide: (ctx) => engine.decide(ctx) });
    return this;
  }

  delete(tenant: string): this {
    this.tenants.delete(tenant);
    return this;
  }

  deciderFor(tenant: string): TenantDecider | undefined {
    return this.tenants.get(tenant);
  }

  fallbackHandling(): CallHandlingSettings {
    return this.handling;
  }
}
