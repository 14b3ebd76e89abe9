import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The recorded FreeSWITCH 1.10.12 traffic in test/fixtures/freeswitch-esl (see the README there). */
export const FIXTURES = fileURLToPath(new URL('../../fixtures/freeswitch-esl/', import.meta.url));

export interface RecordedLine {
  seq: number;
  dir: 'app->fs' | 'fs->app' | 'note' | 'close';
  t_ms: number;
  raw?: string;
  content_type?: string | null;
  event_name?: string | null;
  text?: string;
}

export function readRecording(name: string): RecordedLine[] {
  return readFileSync(`${FIXTURES}${name}.jsonl`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RecordedLine & { type?: string })
    .filter((l) => l.type !== 'meta');
}

export function readStream(name: string, direction: 'fs-to-app' | 'app-to-fs'): Buffer {
  return readFileSync(`${FIXTURES}${name}.${direction}.raw`);
}

export const RECORDED_SCENARIOS = [
  'outbound-mode/a-blocked-hangup',
  'outbound-mode/a-blocked-hangup-json',
  'outbound-mode/a-blocked-pipelined',
  'outbound-mode/b-allowed-exit-without-resume',
  'outbound-mode/b-allowed-resume-exit',
  'outbound-mode/b-allowed-transfer',
  'outbound-mode/c-caller-hangs-up-first',
  'outbound-mode/c-caller-hangs-up-first-no-linger',
  'outbound-mode/c-caller-hangs-up-first-no-linger-race',
  'outbound-mode/d-app-drops-connection',
  'outbound-mode/modesl-blocked-hangup',
  'outbound-mode/modesl-blocked-hangup-nodelay',
  'inbound-mode/json-park-setvar-transfer',
  'inbound-mode/plain-api-misc',
  'inbound-mode/plain-errors',
  'inbound-mode/plain-park-setvar-kill',
] as const;

/** The first message FreeSWITCH sent in a recording that satisfies `pick`. */
export function recordedMessage(name: string, pick: (line: RecordedLine) => boolean): string {
  const line = readRecording(name).find((l) => l.dir === 'fs->app' && pick(l));
  if (!line?.raw) throw new Error(`no such message in ${name}`);
  return line.raw;
}
