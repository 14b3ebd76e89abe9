import { addMetricsSource, type MetricsJson, metricsJson } from '../metrics.js';

/**
 * /metrics across the processes of `callguard serve`: the api process asks the supervisor, the
 * supervisor asks every other child, and their series come back labelled with their `proc` (the call
 * process's decisions, index and event-loop delay). Messages go over the children's IPC channels.
 */
const ASK = 'callguard:metrics?';
const ANSWER = 'callguard:metrics';

interface Ask {
  readonly type: typeof ASK;
  readonly id: number;
}
interface Answer {
  readonly type: typeof ANSWER;
  readonly id: number;
  readonly metrics: MetricsJson[];
}

const isAsk = (m: unknown): m is Ask => (m as Ask | null)?.type === ASK;
const isAnswer = (m: unknown): m is Answer => (m as Answer | null)?.type === ANSWER;

/** How long a scrape waits for the other processes; one that does not answer is left out. */
export const METRICS_WAIT_MS = 1_500;

/** Every series of `json` with `proc` among its labels. */
export function labelled(json: MetricsJson, proc: string): MetricsJson {
  return json.map((m) => ({ ...m, values: m.values.map((v) => ({ ...v, labels: { ...v.labels, proc } })) }));
}

/** In a child: answer the supervisor's asks with this process's metrics, labelled `proc`. */
export function answerMetricsAsks(proc: string): void {
  process.on('message', (m: unknown) => {
    if (!isAsk(m)) return;
    metricsJson().then(
      (json) => process.send?.({ type: ANSWER, id: m.id, metrics: [labelled(json, proc)] } satisfies Answer),
      () => process.send?.({ type: ANSWER, id: m.id, metrics: [] } satisfies Answer),
    );
  });
}

/** In the child that serves /metrics: add the other processes' metrics to every scrape. */
export function mergeSiblingMetrics(): () => void {
  let seq = 0;
  const waiting = new Map<number, (metrics: MetricsJson[]) => void>();
  process.on('message', (m: unknown) => {
    if (isAnswer(m)) waiting.get(m.id)?.(m.metrics);
  });
  return addMetricsSource(
    () =>
      new Promise((resolve) => {
        const id = ++seq;
        const done = (metrics: MetricsJson[]) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(metrics);
        };
        const timer = setTimeout(() => done([]), METRICS_WAIT_MS + 500);
        waiting.set(id, done);
        if (!process.send?.({ type: ASK, id } satisfies Ask)) done([]);
      }),
  );
}

/** A child as the relay sees it. */
export interface RelayPeer {
  send(message: unknown): boolean;
}

/** In the supervisor: an ask from one child goes to every other; their answers go back as one. */
export class MetricsRelay {
  private seq = 0;
  private readonly pending = new Map<number, (metrics: MetricsJson[]) => void>();

  constructor(private readonly peers: () => readonly RelayPeer[]) {}

  /** Handles a message from `from`; false when it is not one of the relay's. */
  handle(from: RelayPeer, m: unknown): boolean {
    if (isAnswer(m)) {
      this.pending.get(m.id)?.(m.metrics);
      return true;
    }
    if (!isAsk(m)) return false;
    const others = this.peers().filter((p) => p !== from);
    void Promise.all(others.map((p) => this.ask(p))).then((answers) =>
      from.send({ type: ANSWER, id: m.id, metrics: answers.flat() } satisfies Answer),
    );
    return true;
  }

  private ask(peer: RelayPeer): Promise<MetricsJson[]> {
    return new Promise((resolve) => {
      const id = ++this.seq;
      const done = (metrics: MetricsJson[]) => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve(metrics);
      };
      const timer = setTimeout(() => done([]), METRICS_WAIT_MS);
      this.pending.set(id, done);
      if (!peer.send({ type: ASK, id } satisfies Ask)) done([]);
    });
  }
}
