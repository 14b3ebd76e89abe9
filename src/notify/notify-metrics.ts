import { Counter, Gauge } from 'prom-client';
import { metricsRegistry } from '../metrics.js';

/** Events and audit records lost because the in-memory buffer was full while Redis was away. */
export const notifyDroppedTotal = new Counter({
  name: 'callguard_notify_dropped_total',
  help: 'Events (kind=event) and decision audit records (kind=audit) dropped because the buffer was full.',
  labelNames: ['kind'] as const,
  registers: [metricsRegistry],
});

export const webhookDeliveriesTotal = new Counter({
  name: 'callguard_webhook_deliveries_total',
  help: 'Webhook delivery attempts by result (delivered, failed, dead, refused).',
  labelNames: ['result'] as const,
  registers: [metricsRegistry],
});

/** Open agent SSE streams on this node (GET /v1/agents/{agentId}/events). */
export const agentStreamsOpen = new Gauge({
  name: 'callguard_agent_streams_open',
  help: "Agents' pop-up streams (Server-Sent Events) open on this node.",
  registers: [metricsRegistry],
});
