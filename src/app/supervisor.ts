import type { Logger } from '../log.js';
import type { LineSink } from './log-relay.js';
import { MetricsRelay } from './metrics-relay.js';
import type { ProcessSpec } from './process-plan.js';
import { type RestartPolicy, SupervisedChild } from './supervised-child.js';

export interface SupervisorOptions {
  readonly specs: readonly ProcessSpec[];
  /** The supervisor's own logger (its lines say `proc: "supervisor"`). */
  readonly log: Logger;
  /** The one log stream every child's lines go to. */
  readonly sink: LineSink;
  /** Environment of the children (the supervisor's, with the embedded Redis URL when it started one). */
  readonly env: NodeJS.ProcessEnv;
  readonly restart?: RestartPolicy;
}

/**
 * The small supervisor of `callguard serve`: one child process per ProcessSpec, each restarted with
 * backoff when it dies, all writing into one log stream, all drained together on stop. It holds no
 * Redis connection and does no work of its own, so little can bring it down.
 */
export class Supervisor {
  readonly children: readonly SupervisedChild[];

  constructor(o: SupervisorOptions) {
    const relay = new MetricsRelay(() => this.children);
    this.children = o.specs.map(
      (spec) =>
        new SupervisedChild({
          spec,
          log: o.log,
          sink: o.sink,
          env: o.env,
          restart: o.restart,
          onMessage: (from, m) => relay.handle(from, m),
        }),
    );
  }

  start(): this {
    for (const c of this.children) c.start();
    return this;
  }

  /** Settles once every child has reported its roles started (restarts included). */
  get ready(): Promise<void> {
    return Promise.all(this.children.map((c) => c.ready)).then(() => {});
  }

  /** SIGTERM to every child at once, SIGKILL to those still there after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop(graceMs)));
  }

  kill(): void {
    for (const c of this.children) c.kill();
  }
}
