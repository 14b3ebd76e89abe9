import type { CallEventSink } from '../../call/call-events.js';
import { CallScreener, type DeciderSource, type DecisionObserver } from '../../call/call-screener.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { CallClaims } from './call-claims.js';
import { EslInboundClient } from './esl-inbound-client.js';
import { EslOutboundServer } from './esl-outbound-server.js';

export type FreeswitchConfig = Pick<
  Config,
  | 'ESL_MODE'
  | 'ESL_LISTEN_HOST'
  | 'ESL_LISTEN_PORT'
  | 'ESL_ALLOW_FROM'
  | 'ESL_HOST'
  | 'ESL_PORT'
  | 'ESL_PASSWORD'
  | 'ESL_TRANSFER_CONTEXT'
  | 'CALLGUARD_DEFAULT_TENANT'
>;

export interface FreeswitchAppDeps {
  readonly config: FreeswitchConfig;
  readonly source: DeciderSource;
  readonly events: CallEventSink;
  readonly logger: Logger;
  /** Sees every decision on the call path (audit, hit counters); must only push into memory. */
  readonly observer?: DecisionObserver;
  /** Inbound mode with several nodes: who screens which parked call (default: this node, all). */
  readonly claims?: CallClaims;
}

/** The FreeSWITCH side of `callguard serve --roles esl`: one or both ESL modes over one screener. */
export class FreeswitchApp {
  readonly outbound?: EslOutboundServer;
  readonly inbound?: EslInboundClient;
  /** The port the outbound socket server listens on, once started. */
  listenPort?: number;

  constructor(deps: FreeswitchAppDeps) {
    const { config, logger } = deps;
    const screener = new CallScreener(deps.source, deps.events, Date.now, deps.observer);
    const log = logger.child({ component: 'esl' });
    if (config.ESL_MODE !== 'inbound') {
      this.outbound = new EslOutboundServer({
        host: config.ESL_LISTEN_HOST,
        port: config.ESL_LISTEN_PORT,
        allowFrom: config.ESL_ALLOW_FROM,
        screener,
        logger: log.child({ mode: 'outbound' }),
        defaultTenant: config.CALLGUARD_DEFAULT_TENANT,
      });
    }
    if (config.ESL_MODE !== 'outbound') {
      this.inbound = new EslInboundClient({
        host: config.ESL_HOST,
        port: config.ESL_PORT,
        password: config.ESL_PASSWORD,
        screener,
        logger: log.child({ mode: 'inbound' }),
        defaultTenant: config.CALLGUARD_DEFAULT_TENANT,
        transferContext: config.ESL_TRANSFER_CONTEXT,
        claims: deps.claims,
      });
    }
  }

  /**
   * Listens (outbound mode) and connects (inbound mode). A FreeSWITCH that is down or refuses the
   * password does not fail start-up: it is logged and retried with backoff.
   */
  async start(): Promise<void> {
    if (this.outbound) this.listenPort = await this.outbound.listen();
    if (this.inbound) await this.inbound.start();
  }

  /** SIGTERM: stop taking calls, finish the live ones, then let go of FreeSWITCH. */
  async drain(): Promise<void> {
    await Promise.all([this.outbound?.drain(), this.inbound?.drain()]);
  }
}

/** Drains the app on the first SIGTERM/SIGINT; returns a function that removes the handlers. */
export function drainOnSignals(app: { drain(): Promise<void> }, logger: Logger, exit = true): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'draining: no new calls, finishing live ones');
    app.drain().then(
      () => {
        logger.info('drained');
        if (exit) process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        if (exit) process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
