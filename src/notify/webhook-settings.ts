import type { NotifyEventType } from '../domain/notify-event-types.js';
import type { SecretBox } from '../secret-box.js';
import type { TenantParams } from '../store/tenant-params.js';
import { readWebhookSecret } from './webhook-secret.js';

/** Which receiver an event type goes to. */
export type WebhookTarget = 'agentDesktop' | 'campaignEngine';

/** A tenant's webhook parameters as delivery needs them (from the tenant parameters). */
export interface WebhookSettings {
  readonly agentDesktopUrl?: string;
  readonly campaignEngineUrl?: string;
  readonly secret?: string;
  /** The tenant chose to send webhooks without a signature (no secret set). */
  readonly unsigned: boolean;
  /** A secret is stored but cannot be decrypted here: deliveries fail loudly (dead letters). */
  readonly secretError?: string;
  readonly allowPrivateTargets: boolean;
  readonly disabledEvents: ReadonlySet<NotifyEventType>;
}

/** `box` opens an encrypted secret (the node's CALLGUARD_SECRET_KEY); a plain one needs none. */
export function webhookSettingsOf(params: TenantParams, box?: SecretBox): WebhookSettings {
  const { secret, error } = readWebhookSecret(box, params.webhookSecret);
  return {
    agentDesktopUrl: params.webhooks.agentDesktopUrl,
    campaignEngineUrl: params.webhooks.campaignEngineUrl,
    secret,
    unsigned: params.unsignedWebhooks && secret === undefined && error === undefined,
    ...(error === undefined ? {} : { secretError: error }),
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

/** Whether events for `target` are queued for delivery: a URL, and a secret, an explicit unsigned choice, or a secret that must fail loudly. */
export function delivers(settings: WebhookSettings, target: WebhookTarget): boolean {
  return (
    urlOf(settings, target) !== undefined &&
    (settings.secret !== undefined || settings.unsigned || settings.secretError !== undefined)
  );
}
