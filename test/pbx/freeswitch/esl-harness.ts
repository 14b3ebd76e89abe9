import { CallScreener } from '../../../src/call/call-screener.js';
import { Q850_TO_FREESWITCH } from '../../../src/call/hangup-causes.js';
import type { Logger } from '../../../src/log.js';
import { EslInboundClient } from '../../../src/pbx/freeswitch/esl-inbound-client.js';
import { EslOutboundServer } from '../../../src/pbx/freeswitch/esl-outbound-server.js';
import type {
  CallResult,
  HarnessStartOptions,
  PbxHarness,
  PlacedCall,
} from '../contract/call-handling-contract.js';
import type { DoubleCallResult } from './esl-double-common.js';
import { FreeswitchInboundDouble } from './esl-inbound-double.js';
import { FreeswitchOutboundDouble } from './esl-outbound-double.js';

const FREESWITCH_TO_Q850: Record<string, number> = Object.fromEntries(
  Object.entries(Q850_TO_FREESWITCH).map(([code, name]) => [name, Number(code)]),
);

export function toCallResult(r: DoubleCallResult): CallResult {
  return {
    variables: r.variables,
    end: r.end,
    cause: r.end === 'hangup' && r.cause ? FREESWITCH_TO_Q850[r.cause] : undefined,
    leftInApp: r.leftInApp,
  };
}

/** The app in outbound socket mode, with the double dialling into it per call. */
export class EslOutboundHarness implements PbxHarness {
  app?: EslOutboundServer;
  double?: FreeswitchOutboundDouble;
  lastResult?: DoubleCallResult;

  constructor(private readonly extra: { afterChannelData?: (uuid: string) => void } = {}) {}

  async start(opts: HarnessStartOptions): Promise<void> {
    this.app = new EslOutboundServer({
      host: '127.0.0.1',
      port: 0,
      screener: new CallScreener(opts.source, opts.events),
      logger: opts.logger,
      defaultTenant: opts.defaultTenant,
    });
    const port = await this.app.listen();
    this.double = new FreeswitchOutboundDouble({ port, afterChannelData: this.extra.afterChannelData });
  }

  async placeCall(call: PlacedCall): Promise<CallResult> {
    this.lastResult = await this.double!.placeCall(call);
    return toCallResult(this.lastResult);
  }

  async dropConnection(): Promise<void> {
    this.double!.dropConnections();
  }

  async stop(): Promise<void> {
    await this.app?.drain();
  }
}

/** The app in inbound mode, connected to the double's event socket. */
export class EslInboundHarness implements PbxHarness {
  app?: EslInboundClient;
  double?: FreeswitchInboundDouble;
  lastResult?: DoubleCallResult;
  logger?: Logger;

  constructor(private readonly options: { password?: string; appPassword?: string } = {}) {}

  async start(opts: HarnessStartOptions): Promise<void> {
    this.double = new FreeswitchInboundDouble({ password: this.options.password });
    const port = await this.double.listen();
    this.logger = opts.logger;
    this.app = new EslInboundClient({
      host: '127.0.0.1',
      port,
      password: this.options.appPassword ?? this.options.password ?? 'ClueCon',
      screener: new CallScreener(opts.source, opts.events),
      logger: opts.logger,
      defaultTenant: opts.defaultTenant,
      transferContext: 'callguard_result',
      backoffMs: { first: 20, max: 200 },
    });
    await this.app.start();
  }

  async placeCall(call: PlacedCall): Promise<CallResult> {
    await this.double!.waitForSubscriber(5000);
    this.lastResult = await this.double!.placeCall(call);
    return toCallResult(this.lastResult);
  }

  async dropConnection(): Promise<void> {
    this.double!.dropConnections();
  }

  async stop(): Promise<void> {
    await this.app?.drain();
    await this.double?.close();
  }
}
