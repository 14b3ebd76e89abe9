import type { z } from 'zod';
import { configSchema } from './config.js';

export interface ConfigEntry {
  readonly name: string;
  readonly defaultValue: string | undefined;
  readonly description: string;
}

/** Every configuration variable with its default and description, in schema order. */
export function configEntries(): ConfigEntry[] {
  return Object.entries(configSchema.shape).map(([name, schema]) => {
    const s = schema as z.ZodType;
    const parsed = s.safeParse(undefined);
    const defaultValue = parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
    return { name, defaultValue, description: s.description ?? '' };
  });
}

/** docs/CONFIGURATION.md, generated: `npm run docs:config` writes it, a test checks it is current. */
export function renderConfigDoc(): string {
  const rows = configEntries().map(
    (e) =>
      `| \`${e.name}\` | ${e.defaultValue === undefined ? '(unset)' : e.defaultValue === '' ? '(empty)' : `\`${e.defaultValue}\``} | ${e.description.replace(/\|/g, '\\|')} |`,
  );
  return [
    '# Configuration',
    '',
    'Generated from the configuration schema (src/config.ts) by `npm run docs:config`; do not edit by hand.',
    '',
    'Every setting is an environment variable and every one is optional. A bad value stops start-up',
    'with one line naming the variable, the value and what is accepted.',
    '',
    '| variable | default | what it does |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
