/**
 * What ordered webhook delivery costs when a backlog is worked off: `--events` pop-ups of `--agents`
 * agents published at once (as after an outage, or a burst the worker fell behind on), delivered by
 * the notifier and the webhook worker in this process to a receiver in this process, on a private
 * redis-server. Prints the wall time to deliver them all, this process's CPU per event (the
 * notifier, the worker and the receiver; Redis not counted) and whether every agent's events
 * arrived in order.
 *
 *   npm run bench -- notify drain [--agents 10] [--events 2000]
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_DELIVERY_OPTIONS } from '../src/notify/webhook-job.js';
import { notifyStack, SECRET } from '../test/notify/notify-stack.js';
import { WebhookReceiver } from '../test/notify/webhook-receiver.js';
import { startRedis } from '../test/support/redis-server.js';
import { flag } from './pbx-bench-kit.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

export async function drain(args: string[]): Promise<void> {
  const agents = Number(flag(args, 'agents', '10'));
  const events = Number(flag(args, 'events', '2000'));
  const redis = await startRedis({ private: true });
  const receiver = await new WebhookReceiver(SECRET).start();
  const stack = await notifyStack(redis, { delivery: { ...DEFAULT_DELIVERY_OPTIONS } });
  try {
    const tenant = await stack.tenant(redis.tenant('drain'), {
      webhooks: { agentDesktopUrl: receiver.url('/drain') },
      webhookSecret: SECRET,
      allowPrivateWebhookTargets: true,
    });
    const publish = (i: number) =>
      stack.notifier.publish({
        type: 'agent.popup',
        tenant,
        data: {
          callId: `c${i}`,
          direction: 'outbound',
          agent: `agent-${i % agents}`,
          number: '1',
          called: '1',
          calling: '2',
          ruleId: 1,
          at: new Date().toISOString(),
        },
      });
    const until = async (n: number) => {
      while (receiver.received.length < n) await sleep(10);
    };
    for (let i = 0; i < 200; i++) publish(-1 - i); // warm-up, not measured
    await until(200);
    receiver.received.length = 0;
    const load0 = loadavg();
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    for (let i = 0; i < events; i++) publish(i);
    await until(events);
    const wallMs = Date.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    // order: per agent, the call numbers must rise
    const last = new Map<string, number>();
    let outOfOrder = 0;
    for (const r of receiver.received) {
      const e = JSON.parse(r.body) as { data: { agent: string; callId: string } };
      const n = Number(e.data.callId.slice(1));
      if (n < (last.get(e.data.agent) ?? -1)) outOfOrder++;
      last.set(e.data.agent, Math.max(n, last.get(e.data.agent) ?? -1));
    }
    console.log(
      JSON.stringify({
        bench: 'notify-drain',
        agents,
        events,
        wallMs,
        eventsPerSecond: Math.round((events / wallMs) * 1000),
        cpuMsPerEvent: Math.round(((cpu.user + cpu.system) / 1000 / events) * 1000) / 1000,
        outOfOrderPerAgent: outOfOrder,
        loadavg: `${load0} -> ${loadavg()}`,
      }),
    );
  } finally {
    await stack.close();
    await receiver.stop();
    await redis.stop();
  }
}
