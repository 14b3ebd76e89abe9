/** What a delivery about to be sent to a receiver may do. */
export type GateAnswer =
  /** Send it now (then `leave`). */
  | 'send'
  /** The receiver has its share in flight and they end quickly: wait here for a turn (`waitHere`). */
  | 'waitHere'
  /** The receiver has its share in flight: wait elsewhere, without using an attempt (see `leave`). */
  | 'wait'
  /** The receiver let its last attempt go unanswered and one to it is in flight: do not send. */
  | 'silent';

interface Receiver {
  inFlight: number;
  /** Its last attempt got no answer (time limit, connection failed). */
  silent: boolean;
  /** When a quick delivery to it last ended, or it went from none in flight to one (ms). */
  movedAt: number;
  /** Deliveries waiting here for a turn, oldest first; a turn is handed over with the slot. */
  readonly here: Array<(turn: boolean) => void>;
  /** Deliveries waiting here for their lane's holder (see `holdHere`). */
  behind: number;
  /** Deliveries told to wait elsewhere, oldest first. */
  readonly told: string[];
}

/**
 * A delivery that took less than this is quick; a receiver with a quick delivery ended (or the
 * first begun) this recently is taken to turn its slots over quickly.
 */
const QUICK_MS = 50;
/** Deliveries remembered as told to wait, per receiver; they also come back by themselves. */
const MAX_TOLD = 256;

/**
 * Keeps one receiver (a tenant's webhook target) from taking the worker's deliveries from the
 * others: at most `share` in flight to it at once while it answers, and one while it does not. A
 * receiver that hangs would otherwise hold every delivery slot for the full time limit, and every
 * other tenant's pop-ups would wait behind it. A delivery over the share waits here while the
 * receiver answers quickly (`hereMax` at a time, so slots are left for others), elsewhere when not.
 */
export class ReceiverGate {
  private readonly receivers = new Map<string, Receiver>();

  constructor(
    private readonly share: number,
    private readonly hereMax: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** May delivery `jobId` be sent to receiver `key` now? `mayWaitHere`: false after a wait here ran out. */
  enter(key: string, jobId: string, mayWaitHere = true): GateAnswer {
    const r = this.receiver(key);
    if (r.silent && r.inFlight > 0) return 'silent';
    if (r.inFlight < this.share) {
      if (r.inFlight++ === 0) r.movedAt = this.now();
      const at = r.told.indexOf(jobId);
      if (at >= 0) r.told.splice(at, 1);
      return 'send';
    }
    if (mayWaitHere && this.isQuick(r) && r.here.length < this.hereMax) return 'waitHere';
    if (!r.told.includes(jobId) && r.told.length < MAX_TOLD) r.told.push(jobId);
    return 'wait';
  }

  private receiver(key: string): Receiver {
    let r = this.receivers.get(key);
    if (!r) {
      // Nothing in flight: as quick as one that has just begun.
      r = { inFlight: 0, silent: false, movedAt: this.now(), here: [], behind: 0, told: [] };
      this.receivers.set(key, r);
    }
    return r;
  }

  /** Deliveries wait here (for a turn, or behind their lane's holder) only while the receiver is quick. */
  private isQuick(r: Receiver): boolean {
    return !r.silent && this.now() - r.movedAt < QUICK_MS;
  }

  /**
   * May a delivery to `key` wait here, holding a slot of the worker, behind its lane's holder? Only
   * while the receiver turns its deliveries over quickly, and `hereMax` at a time (so that, with its
   * share in flight, a slot is left for other receivers); then `releaseHere` when it is done waiting.
   */
  holdHere(key: string): boolean {
    const r = this.receiver(key);
    if (!this.isQuick(r) || r.behind >= this.hereMax) {
      this.forgetIfIdle(key, r);
      return false;
    }
    r.behind++;
    return true;
  }

  releaseHere(key: string): void {
    const r = this.receivers.get(key);
    if (!r) return;
    r.behind = Math.max(0, r.behind - 1);
    this.forgetIfIdle(key, r);
  }

  /** After 'waitHere': true when handed a turn (then send, and `leave`), false after `ms`. */
  waitHere(key: string, ms: number): Promise<boolean> {
    const r = this.receivers.get(key);
    if (!r) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        const at = r.here.indexOf(take);
        if (at >= 0) r.here.splice(at, 1);
        resolve(false);
      }, ms);
      const take = (turn: boolean) => {
        clearTimeout(timer);
        resolve(turn);
      };
      r.here.push(take);
    });
  }

  /** Whether a delivery to `key` could be sent now (one told to wait may start itself). */
  hasRoom(key: string): boolean {
    const r = this.receivers.get(key);
    return !r || (r.inFlight < this.share && !(r.silent && r.inFlight > 0));
  }

  /**
   * A delivery sent to `key` at `sentAt` is over; `answered`: the receiver gave an HTTP answer,
   * whatever its status. Its turn goes to a delivery waiting here; if none, `next` is the oldest one
   * told to wait elsewhere (to be started). `wasSilent`: the receiver had let its last attempt go
   * unanswered.
   */
  leave(key: string, answered: boolean, sentAt: number): { wasSilent: boolean; next: string | undefined } {
    const r = this.receivers.get(key);
    if (!r) return { wasSilent: false, next: undefined };
    r.inFlight = Math.max(0, r.inFlight - 1);
    const now = this.now();
    if (now - sentAt < QUICK_MS) r.movedAt = now;
    const wasSilent = r.silent;
    r.silent = !answered;
    let next: string | undefined;
    if (r.silent) {
      // Those waiting here ask again (and are told the receiver is silent).
      for (const take of r.here.splice(0)) take(false);
    } else {
      const take = r.here.shift();
      if (take) {
        r.inFlight++;
        take(true);
      } else next = r.told.shift();
    }
    this.forgetIfIdle(key, r);
    return { wasSilent, next };
  }

  /** A receiver with nothing in flight or waiting, that answered last, is forgotten. */
  private forgetIfIdle(key: string, r: Receiver): void {
    if (r.inFlight === 0 && !r.silent && r.here.length === 0 && r.behind === 0 && r.told.length === 0) {
      this.receivers.delete(key);
    }
  }
}
