import { z } from 'zod';
import type { AriEvent } from './ari-types.js';

/**
 * What a frame off the events socket must be before the app looks into it: an object with a string
 * `type`, its channel (when it has one) an object with an id, and a StasisStart with a channel. The
 * rest of an event is Asterisk's and read with care where it is used (ari-call-reader.ts).
 */
const eventSchema = z
  .looseObject({
    type: z.string(),
    channel: z.looseObject({ id: z.string().min(1) }).optional(),
  })
  .refine((e) => e.type !== 'StasisStart' || e.channel !== undefined, {
    message: 'a StasisStart with no channel',
  });

/** The event in a parsed frame, or why it is not one. */
export function readAriEvent(frame: unknown): { event: AriEvent } | { why: string } {
  const parsed = eventSchema.safeParse(frame);
  if (parsed.success) return { event: parsed.data as AriEvent };
  const issue = parsed.error.issues[0];
  return { why: `${issue?.path.join('.') || 'frame'}: ${issue?.message ?? 'not an event'}` };
}
