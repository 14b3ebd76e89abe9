import type { CallEventSink } from '../../call/call-events.js';
import type { DeciderSource } from '../../call/call-screener.js';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import { AriApp, type DrainOptions } from './ari-app.js';
import { AriClientConnection } from './ari-client-connection.js';
import type { AriConnection } from './ari-connection.js';
import { AriHttpClient } from './ari-http-client.js';

export type AriClientKind = Config['ARI_CLIENT'];

/** The settings the ARI role reads (ARI_CLIENT and ARI_PIPELINE default to undici and on). */
export type AriSettings = Pick<Config, 'ARI_URL' | 'ARI_USERNAME' | 'ARI_PASSWORD' | 'ARI_APP'> &
  Partial<Pick<Config, 'ARI_CLIENT' | 'ARI_PIPELINE'>>;

/** The ARI client named by ARI_CLIENT (default: the small undici + ws client; see docs/DECISIONS.md). */
export function createAriConnection(config: AriSettings, logger: Logger): AriConnection {
  const opts = {
    url: config.ARI_URL,
    username: config.ARI_USERNAME,
    password: config.ARI_PASSWORD,
    app: config.ARI_APP,
    logger,
  };
  return config.ARI_CLIENT === 'ari-client'
    ? new AriClientConnection(opts)
    : new AriHttpClient({ ...opts, pipelineEnd: config.ARI_PIPELINE ?? true });
}

/**
 * Stops the app on SIGTERM / SIGINT: finish the live calls, close the events socket calmly, then
 * call `exit`. Returns a function that removes the handlers.
 */
export function drainOnSignals(
  stop: () => Promise<void>,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): () => void {
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    logger.info({ signal }, 'draining before exit');
    stopping = stop().then(
      () => exit(0),
      (err: unknown) => {
        logger.error({ err }, 'drain failed');
        exit(1);
      },
    );
  };
  for (const s of signals) process.on(s, onSignal);
  return () => {
    for (const s of signals) process.off(s, onSignal);
  };
}

export interface AriService {
  readonly app: AriApp;
  stop(opts?: DrainOptions): Promise<void>;
}

/** Starts the Stasis app from the configuration; the `serve` command's ari role. */
export async function startAriService(deps: {
  config: AriSettings & Pick<Config, 'CALLGUARD_DEFAULT_TENANT'>;
  source: DeciderSource;
  events: CallEventSink;
  logger: Logger;
}): Promise<AriService> {
  const logger = deps.logger.child({ role: 'ari' });
  const app = new AriApp({
    connection: createAriConnection(deps.config, logger),
    source: deps.source,
    events: deps.events,
    logger,
    defaultTenant: deps.config.CALLGUARD_DEFAULT_TENANT,
    appName: deps.config.ARI_APP,
  });
  await app.start();
  return { app, stop: (opts) => app.stop(opts) };
}
