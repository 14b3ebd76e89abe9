/**
 * A receiver that never answers and its neighbours: pop-ups of a "quiet" tenant whose receiver
 * answers at once, timed at that receiver, while a neighbour tenant's pop-ups go to a receiver that
 * reads each request and never answers ("silent"), then to one that answers after 4 s, within the
 * time limit ("slow"). The same run first measures the quiet tenant with the neighbour's receiver
 * answering at once too (the baseline). The notifier, the webhook worker (default delivery options:
 * 16 at once, 5 s time limit) and both receivers run in this process, on a private redis-server.
 *
 *   npm run bench -- notify neighbour [--seconds 20] [--rate 10] [--neighbour-rate 20] [--neighbour-agents 100]
 *
 * Prints one line per phase: the quiet tenant's p50/p99/max from publish to receipt, how many were
 * late (not there 30 s after the phase), and how many of the neighbour's requests were open at most
 * (and abandoned at the time limit); then the bar: the quiet tenant's p99 with a silent or slow
 * neighbour ≤ 250 ms (the pop-up bar).
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_DELIVERY_OPTIONS } from '../src/notify/webhook-job.js';
import { notifyStack, popup, SECRET } from '../test/notify/notify-stack.js';
import { type Behaviour, WebhookReceiver } from '../test/notify/webhook-receiver.js';
import { percentile } from '../test/pbx/load-pacing.js';
import { startRedis } from '../test/support/redis-server.js';
import { flag } from './pbx-bench-kit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const P99_BAR_MS = 250;

export async function neighbour(args: string[]): Promise<void> {
  const seconds = Number(flag(args, 'seconds', '20'));
  const rate = Number(flag(args, 'rate', '10'));
  const neighbourRate = Number(flag(args, 'neighbour-rate', '20'));
  const neighbourAgents = Number(flag(args, 'neighbour-agents', '100'));
  const redis = await startRedis({ private: true });
  const receiver = await new WebhookReceiver(SECRET).start();
  const stack = await notifyStack(redis, { delivery: { ...DEFAULT_DELIVERY_OPTIONS } });
  const params = (path: string) => ({
    webhooks: { agentDesktopUrl: receiver.url(path) },
    webhookSecret: SECRET,
    allowPrivateWebhookTargets: true,
  });
  try {
    const quiet = await stack.tenant(redis.tenant('quiet'), params('/quiet'));
    const neighbour = await stack.tenant(redis.tenant('neighbour'), params('/neighbour'));
    const sentAt = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    const seen = { n: 0 };
    /** The first receipt of each quiet pop-up, stamped by the receiver when it read the request. */
    const collect = () => {
      const got = receiver.at('/quiet');
      for (; seen.n < got.length; seen.n++) {
        const id = (JSON.parse(got[seen.n].body) as { data: { callId: string } }).data.callId;
        if (!arrivedAt.has(id)) arrivedAt.set(id, got[seen.n].readAt);
      }
    };
    const phase = async (name: string, neighbourAnswers: string, behaviour: Behaviour) => {
      receiver.on('/neighbour', behaviour);
      receiver.mostOpen.set('/neighbour', receiver.open.get('/neighbour') ?? 0);
      const abandoned0 = receiver.abandoned.get('/neighbour') ?? 0;
      const load0 = loadavg();
      const ids: string[] = [];
      const t0 = performance.now();
      let q = 0;
      let s = 0;
      while (performance.now() - t0 < seconds * 1000) {
        const elapsed = (performance.now() - t0) / 1000;
        for (; s < elapsed * neighbourRate; s++) {
          stack.notifier.publish(popup(neighbour, `agent-${s % neighbourAgents}`, `${name}-s${s}`));
        }
        for (; q < elapsed * rate; q++) {
          const id = `${name}-q${q}`;
          ids.push(id);
          sentAt.set(id, performance.now());
          stack.notifier.publish(popup(quiet, `agent-${q % 10}`, id));
        }
        await sleep(5);
      }
      const settle = performance.now() + 30_000;
      for (collect(); ids.some((id) => !arrivedAt.has(id)) && performance.now() < settle; collect()) {
        await sleep(20);
      }
      const ms = ids
        .filter((id) => arrivedAt.has(id))
        .map((id) => arrivedAt.get(id)! - sentAt.get(id)!)
        .sort((a, b) => a - b);
      const round = (n: number) => Math.round(n * 10) / 10;
      const line = {
        bench: 'notify-neighbour',
        phase: name,
        neighbourReceiver: neighbourAnswers,
        quietEvents: ids.length,
        quietLate: ids.length - ms.length,
        quietP50Ms: round(percentile(ms, 50)),
        quietP99Ms: round(percentile(ms, 99)),
        quietMaxMs: round(ms[ms.length - 1] ?? Number.NaN),
        neighbourEvents: s,
        neighbourMostOpen: receiver.mostOpen.get('/neighbour') ?? 0,
        neighbourAbandoned: (receiver.abandoned.get('/neighbour') ?? 0) - abandoned0,
        loadavg: `${load0} -> ${loadavg()}`,
      };
      console.log(JSON.stringify(line));
      return line;
    };
    const base = await phase('baseline', 'at once', { kind: 'ok' });
    const hung = await phase('silent', 'never', { kind: 'slow', ms: 3_600_000 });
    const slow = await phase('slow', 'after 4 s', { kind: 'slow', ms: 4_000 });
    console.log(
      JSON.stringify({
        bench: 'notify-neighbour',
        phase: 'bars',
        quietP99Ms: hung.quietP99Ms,
        quietP99BaselineMs: base.quietP99Ms,
        quietP99SlowNeighbourMs: slow.quietP99Ms,
        p99VsBaseline: Math.round((hung.quietP99Ms / Math.max(1, base.quietP99Ms)) * 100) / 100,
        p99BarMs: P99_BAR_MS,
        late: hung.quietLate + base.quietLate + slow.quietLate,
        pass:
          Math.max(hung.quietP99Ms, slow.quietP99Ms) <= P99_BAR_MS &&
          hung.quietLate + base.quietLate + slow.quietLate === 0,
      }),
    );
  } finally {
    await stack.close();
    await receiver.stop();
    await redis.stop();
  }
}
