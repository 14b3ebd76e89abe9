import { Agent, request } from 'undici';
import { CallguardError } from '../domain/errors.js';
import { assertPublicTarget, guardedLookup, parseWebhookUrl, TargetRefusedError } from './target-guard.js';
import {
  ATTEMPT_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
} from './webhook-signature.js';

export type DeliveryResult =
  | { readonly ok: true; readonly status: number }
  | {
      readonly ok: false;
      /** Retrying cannot help (refused target, bad URL): straight to the dead-letter list. */
      readonly permanent: boolean;
      readonly status?: number;
      readonly error: string;
    };

export interface DeliveryRequest {
  readonly url: string;
  /** undefined: the tenant chose unsigned webhooks (no signature header). */
  readonly secret: string | undefined;
  readonly eventId: string;
  readonly type: string;
  readonly body: string;
  readonly attempt: number;
  readonly allowPrivateTargets: boolean;
  readonly timeoutMs: number;
}

/**
 * Sends webhooks. Two connection pools: one whose DNS lookup refuses private addresses at connect
 * time (every resolved address, IPv4 and IPv6), one plain for tenants that allow private targets.
 * Redirects are not followed (a 3xx is a failed attempt), response bodies are read and thrown away.
 */
export class WebhookSender {
  private readonly guarded = new Agent({
    connect: { lookup: guardedLookup as never },
    keepAliveTimeout: 10_000,
  });
  private readonly open = new Agent({ keepAliveTimeout: 10_000 });

  async send(req: DeliveryRequest, now: number = Date.now()): Promise<DeliveryResult> {
    let url: URL;
    try {
      url = parseWebhookUrl(req.url);
      if (!req.allowPrivateTargets) await assertPublicTarget(url);
    } catch (error) {
      // A refused URL or target stays refused; a name that did not resolve (a resolver hiccup, a
      // record not there yet) is an attempt like a receiver that did not answer.
      const permanent = error instanceof TargetRefusedError || error instanceof CallguardError;
      return { ok: false, permanent, error: (error as Error).message };
    }
    const signal = AbortSignal.timeout(req.timeoutMs);
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher: req.allowPrivateTargets ? this.open : this.guarded,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'callguard-webhooks/1',
          [EVENT_ID_HEADER]: req.eventId,
          [EVENT_TYPE_HEADER]: req.type,
          [ATTEMPT_HEADER]: String(req.attempt),
          ...(req.secret === undefined
            ? {}
            : { [SIGNATURE_HEADER]: signatureHeader(req.secret, req.body, Math.floor(now / 1000)) }),
        },
        body: req.body,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
        signal,
      });
      // The receiver's answer is not stored anywhere: only its status matters.
      await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, status: res.statusCode };
      return {
        ok: false,
        permanent: false,
        status: res.statusCode,
        error: `receiver answered ${res.statusCode}`,
      };
    } catch (error) {
      const e = error as Error & { cause?: unknown };
      const refused = e instanceof TargetRefusedError || e.cause instanceof TargetRefusedError;
      if (refused)
        return { ok: false, permanent: true, error: (e.cause as Error | undefined)?.message ?? e.message };
      const timedOut = signal.aborted || /timeout/i.test(e.name) || /timeout/i.test(e.message);
      return {
        ok: false,
        permanent: false,
        error: timedOut ? `no answer within ${req.timeoutMs} ms` : e.message,
      };
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.guarded.close(), this.open.close()]);
  }
}
