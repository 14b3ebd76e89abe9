import { ApiError, get, openEventStream, type Query } from './api';

/** A decision as GET /v1/decisions and the stream give it. */
export interface LiveDecision {
  id: string;
  at: string;
  callId: string;
  direction: string;
  called: string;
  calling: string;
  task: string | null;
  action: 'allow' | 'block';
  ruleId: number | null;
  basis: 'rule' | 'default' | 'failure-policy';
  operation: string;
  node: string;
  agent: string | null;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed';

/**
 * Shows the latest `recent` decisions passing the filters (GET /v1/decisions), then follows GET
 * /v1/decisions/stream from the newest of them until `signal` aborts: reads the Server-Sent Events
 * from a fetch body, and after a drop connects again with growing pauses (up to 30 s), sending the
 * last decision's id so that the server replays what came meanwhile. A key or a filter the API
 * refuses stops it.
 */
export async function followDecisions(
  query: Query,
  recent: number,
  signal: AbortSignal,
  on: {
    recent: (newestFirst: LiveDecision[]) => void;
    decision: (d: LiveDecision) => void;
    state: (s: StreamState, message?: string) => void;
  },
): Promise<void> {
  let lastId: string | undefined;
  let pause = 1000;
  on.state('connecting');
  while (!signal.aborted) {
    try {
      if (lastId === undefined) {
        const page = await get<{ items: LiveDecision[] }>('/v1/decisions', { ...query, limit: recent });
        if (signal.aborted) return;
        on.recent(page.items);
        // An empty log: the stream starts from now.
        lastId = page.items[0]?.id ?? '';
      }
      const res = await openEventStream('/v1/decisions/stream', query, {
        lastEventId: lastId || undefined,
        signal,
      });
      on.state('live');
      pause = 1000;
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          let id: string | undefined;
          let data = '';
          let event = 'message';
          for (const line of frame.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
            else if (line.startsWith('event: ')) event = line.slice(7);
          }
          if (event !== 'message' || !data) continue;
          if (id) lastId = id;
          on.decision(JSON.parse(data) as LiveDecision);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
        on.state('failed', error.message);
        return;
      }
    }
    if (signal.aborted) return;
    on.state('reconnecting');
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(pause * 2, 30_000);
  }
}
