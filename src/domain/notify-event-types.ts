import { z } from 'zod';

/** Every event type callguard publishes (event stream and webhooks). */
export const NOTIFY_EVENT_TYPES = [
  'agent.popup',
  'call.wrapped_up',
  'import.finished',
  'export.finished',
] as const;
export const notifyEventTypeSchema = z.enum(NOTIFY_EVENT_TYPES);
export type NotifyEventType = z.infer<typeof notifyEventTypeSchema>;
