import type { Logger } from '../log.js';

export interface AbsentPeerLogOptions {
  /** At most one line this often while the peer stays away (default one a minute). */
  readonly everyMs?: number;
  readonly now?: () => number;
}

/**
 * What a role says while its peer (Asterisk, FreeSWITCH) is away: one warning when it goes, then at
 * most one line a minute (attempts stay at debug), and one line when it answers again. The retry
 * cadence is the caller's; only the talking is throttled, so a PBX that comes up is still found fast.
 */
export class AbsentPeerLog {
  private since: number | undefined;
  private lastLineAt = 0;
  private attempts = 0;
  private readonly everyMs: number;
  private readonly now: () => number;

  constructor(
    private readonly log: Logger,
    private readonly peer: string,
    options: AbsentPeerLogOptions = {},
  ) {
    this.everyMs = options.everyMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** One failed attempt to reach the peer; `fields` (e.g. the retry delay, the reason) go on the line. */
  failed(fields: Record<string, unknown>): void {
    const at = this.now();
    this.attempts++;
    if (this.since === undefined) {
      this.since = at;
      this.lastLineAt = at;
      this.log.warn(
        fields,
        `${this.peer} is not reachable; retrying quietly until it answers (a line a minute at most)`,
      );
      return;
    }
    if (at - this.lastLineAt >= this.everyMs) {
      this.lastLineAt = at;
      this.log.warn(
        { ...fields, attempts: this.attempts, awayForS: Math.round((at - this.since) / 1000) },
        `${this.peer} still not reachable; retrying`,
      );
      return;
    }
    this.log.debug(fields, `${this.peer} not reachable; retrying`);
  }

  /** The peer answered: one line if it had been away. */
  reachable(fields: Record<string, unknown> = {}): void {
    if (this.since === undefined) return;
    this.log.info(
      { ...fields, attempts: this.attempts, awayForS: Math.round((this.now() - this.since) / 1000) },
      `${this.peer} reachable again`,
    );
    this.since = undefined;
    this.attempts = 0;
  }
}
