import type { Logger } from '../../log.js';
import { eslClaimKey } from '../../store/keys.js';
import type { RedisClient } from '../../store/redis-client.js';

/**
 * Inbound mode with several callguard nodes: every node sees every CHANNEL_PARK, and exactly one may
 * screen the call (one webhook, one decision). A node acts on a channel only after claiming it.
 */
export interface CallClaims {
  /** true: this node screens the channel; false: another node claimed it first. */
  claim(channelUuid: string): Promise<boolean>;
}

/** One node: every channel is ours (the client still never screens a channel twice itself). */
export const SINGLE_NODE_CLAIMS: CallClaims = { claim: () => Promise.resolve(true) };

/**
 * Claims in Redis, `SET cg:esl-claim:<uuid> <node> NX PX <ttl>`: atomic, one round trip, and gone
 * by itself after the TTL (a parked call is decided within milliseconds or handed to the dialplan's
 * failure policy within seconds). When Redis cannot answer, the node screens the call anyway: a
 * call screened twice is better than a call nobody screens.
 */
export class RedisCallClaims implements CallClaims {
  constructor(
    private readonly client: RedisClient,
    private readonly node: string,
    private readonly logger: Logger,
    private readonly ttlMs = 30_000,
  ) {}

  async claim(channelUuid: string): Promise<boolean> {
    try {
      const set = await this.client.set(eslClaimKey(channelUuid), this.node, 'PX', this.ttlMs, 'NX');
      return set === 'OK';
    } catch (err) {
      this.logger.warn(
        { err, callId: channelUuid },
        'ESL inbound: claim not possible (Redis); screening anyway',
      );
      return true;
    }
  }
}
