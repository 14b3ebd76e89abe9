import type { TenantParams } from '../store/tenant-params.js';
import type { NotifyEventType } from './notify-event-types.js';

/** Which receiver an event type goes to. */
export type WebhookTarget = 'agentDesktop' | 'campaignEngine';

/** A tenant's webhook parameters as delivery needs them (from the tenant parameters). */
export interface WebhookSettings {
  readonly agentDesktopUrl?: string;
  readonly campaignEngineUrl?: string;
  readonly secret?: string;
  readonly allowPrivateTargets: boolean;
  readonly disabledEvents: ReadonlySet<NotifyEventType>;
}

export function webhookSettingsOf(params: TenantParams): WebhookSettings {
  return {
    agentDesktopUrl: params.webhooks.agentDesktopUrl,
    campaignEngineUrl: params.webhooks.campaignEngineUrl,
    secret: params.webhookSecret,
    allowPrivateTargets: params.allowPrivateWebhookTargets,
    disabledEvents: new Set(params.disabledEvents),
  };
}

/** agent.popup goes to the agent desktop; call.wrapped_up, import.finished and export.finished to the campaign engine. */
export function targetOf(type: NotifyEventType): WebhookTarget {
  return type === 'agent.popup' ? 'agentDesktop' : 'campaignEngine';
}

export function urlOf(settings: WebhookSettings, target: WebhookTarget): string | undefined {
  return target === 'agentDesktop' ? settings.agentDesktopUrl : settings.campaignEngineUrl;
}
