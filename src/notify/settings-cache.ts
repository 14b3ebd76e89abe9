import type { WebhookSettings } from './webhook-settings.js';

/**
 * Webhook settings per tenant, read through and kept for a short time: the notifier consults them
 * for every event batch, and a parameter change should apply within seconds without a read per event.
 */
export class SettingsCache {
  private readonly entries = new Map<string, { settings: WebhookSettings; until: number }>();

  constructor(
    private readonly load: (tenant: string) => Promise<WebhookSettings>,
    private readonly ttlMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  async get(tenant: string): Promise<WebhookSettings> {
    const hit = this.entries.get(tenant);
    const t = this.now();
    if (hit && hit.until > t) return hit.settings;
    const settings = await this.load(tenant);
    this.entries.set(tenant, { settings, until: t + this.ttlMs });
    return settings;
  }

  invalidate(tenant?: string): void {
    if (tenant === undefined) this.entries.clear();
    else this.entries.delete(tenant);
  }
}
