// The parts of ari-client 2.2.0 (untyped) that ari-client-connection.ts uses.
declare module 'ari-client' {
  import type { EventEmitter } from 'node:events';

  interface ChannelsApi {
    list(): Promise<unknown[]>;
    setChannelVar(opts: { channelId: string; variable: string; value: string }): Promise<unknown>;
    getChannelVar(opts: { channelId: string; variable: string }): Promise<{ value: string }>;
    continueInDialplan(opts: { channelId: string }): Promise<unknown>;
    hangup(opts: { channelId: string; reason_code?: string; reason?: string }): Promise<unknown>;
  }

  export interface AriClient extends EventEmitter {
    channels: ChannelsApi;
    start(apps: string | string[]): Promise<void>;
    stop(): void;
  }

  export function connect(url: string, user: string, pass: string): Promise<AriClient>;
  const ari: { connect: typeof connect };
  export default ari;
}
