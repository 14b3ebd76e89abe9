import type { Command } from 'commander';
import { z } from 'zod';
import type { Rule } from '../domain/rule.js';
import type { validityUnitSchema } from '../domain/validity.js';
import { apiTarget, callApi } from './api-client.js';
import { out, UsageError } from './output.js';

interface Connection {
  url?: string;
  key?: string;
  json?: boolean;
}

const UNITS: Record<string, z.infer<typeof validityUnitSchema>> = {
  h: 'hour',
  d: 'day',
  m: 'month',
  y: 'year',
};

/** "3d", "12h", "6m", "1y" → a validity. */
export function parseValidity(text: string): { value: number; unit: z.infer<typeof validityUnitSchema> } {
  const m = /^(\d{1,3})([hdmy])$/.exec(text.trim());
  if (!m)
    throw new UsageError(
      `--validity: "${text}" is not accepted; write 1-120 with h, d, m or y (3d, 12h, 6m, 1y)`,
    );
  return { value: Number(m[1]), unit: UNITS[m[2]!]! };
}

function ruleLine(r: Rule): string {
  const parts = [
    `${r.id}`,
    r.action,
    r.direction,
    r.called ? `called=${r.called}` : '',
    r.calling ? `calling=${r.calling}` : '',
    r.groupId ? `group=${r.groupId}` : '',
    r.typeId ? `type=${r.typeId}` : '',
    r.ou ? `ou=${r.ou}` : '',
    r.expiresAt ? `expires=${new Date(r.expiresAt).toISOString()}` : '',
  ];
  return parts.filter(Boolean).join('\t');
}

/** The rule fields the add and update commands take, option name → API field. */
const RULE_OPTIONS = {
  called: 'called',
  calling: 'calling',
  direction: 'direction',
  action: 'action',
  group: 'groupId',
  type: 'typeId',
  ou: 'ou',
  remarks: 'remarks',
} as const;
const UNSETTABLE = ['called', 'calling', 'group', 'type', 'ou', 'remarks'];

/** The API body of the options given (an option not given is left out). */
function ruleFields(o: Record<string, string | undefined>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [option, field] of Object.entries(RULE_OPTIONS)) {
    if (o[option] !== undefined) body[field] = o[option];
  }
  if (o.validity) body.validity = parseValidity(o.validity);
  return body;
}

/** A stored rule as the body that writes it back (the PUT takes a validity, not an expiry). */
function ruleBody(rule: Rule): Record<string, unknown> {
  const { id: _id, updatedAt: _u, expiresAt: _e, ...rest } = rule;
  return rest;
}

function ruleIdArg(raw: string): number {
  const id = Number(raw);
  if (!Number.isInteger(id) || id < 1)
    throw new UsageError(`"${raw}" is not a rule id (a whole number from 1)`);
  return id;
}

const ruleOptions = (cmd: Command, defaults: boolean) =>
  cmd
    .option('--called <pattern>', 'called number or pattern')
    .option('--calling <pattern>', 'calling number or pattern (anonymous for no caller id)')
    .option('--direction <direction>', 'inbound, outbound or both', defaults ? 'both' : undefined)
    .option('--action <action>', 'block or allow', defaults ? 'block' : undefined)
    .option('--group <group>')
    .option('--type <type>')
    .option('--ou <ou>')
    .option('--validity <n[hdmy]>', 'expire after 1-120 hours, days, months or years (3d)')
    .option('--remarks <text>');

const connection = (cmd: Command) =>
  cmd
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL or http://127.0.0.1:7780)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'print JSON');

/** `callguard rules add|list|rm` over the admin API. */
export function registerRulesCommands(program: Command): void {
  const rules = program.command('rules').description('manage rules through the admin API');

  connection(
    ruleOptions(rules.command('add').description('create a rule'), true).option(
      '--duplicates <mode>',
      'reject, skip or override',
      'reject',
    ),
  ).action(async (o: Connection & Record<string, string | undefined>) => {
    const body = ruleFields(o);
    const mode = z.enum(['reject', 'skip', 'override']).safeParse(o.duplicates);
    if (!mode.success) throw new UsageError('--duplicates: reject, skip or override');
    const result = await callApi<{ rule: Rule; status: string }>(
      apiTarget(o),
      'POST',
      `/v1/rules?duplicates=${mode.data}`,
      body,
    );
    out(o.json ? JSON.stringify(result) : `${result.status}: ${ruleLine(result.rule)}`);
  });

  connection(
    rules
      .command('list')
      .description('query rules')
      .option('--number <number>', 'a number or pattern')
      .option('--match <how>', 'exact, matching or prefix', 'exact')
      .option('--side <side>', 'called or calling')
      .option('--group <group>')
      .option('--type <type>')
      .option('--ou <ou>')
      .option('--direction <direction>')
      .option('--action <action>')
      .option('--sort <field>', 'id, updatedAt, expiresAt, called; prefix - for descending', 'id')
      .option('--limit <n>', 'rules per page', '100')
      .option('--cursor <cursor>', 'the next cursor of the previous page'),
  ).action(async (o: Connection & Record<string, string | undefined>) => {
    const q = new URLSearchParams();
    for (const k of [
      'number',
      'side',
      'group',
      'type',
      'ou',
      'direction',
      'action',
      'sort',
      'limit',
      'cursor',
    ]) {
      if (o[k] !== undefined) q.set(k, String(o[k]));
    }
    if (o.number !== undefined) q.set('match', String(o.match));
    const page = await callApi<{ items: Rule[]; total: number; next?: string }>(
      apiTarget(o),
      'GET',
      `/v1/rules?${q}`,
    );
    if (o.json) {
      out(JSON.stringify(page));
      return;
    }
    for (const r of page.items) out(ruleLine(r));
    out(`# ${page.items.length} of ${page.total}${page.next ? `; next page: --cursor ${page.next}` : ''}`);
  });

  connection(rules.command('get').description('show one rule').argument('<id>', 'rule id')).action(
    async (raw: string, o: Connection) => {
      const rule = await callApi<Rule>(apiTarget(o), 'GET', `/v1/rules/${ruleIdArg(raw)}`);
      out(o.json ? JSON.stringify(rule) : ruleLine(rule));
    },
  );

  connection(
    ruleOptions(
      rules
        .command('update')
        .description('change a rule: the options given replace those fields, the others are kept')
        .argument('<id>', 'rule id'),
      false,
    )
      .option('--unset <fields>', `comma-separated fields to clear: ${UNSETTABLE.join(', ')}`)
      .option('--duplicates <mode>', 'reject or override', 'reject'),
  ).action(async (raw: string, o: Connection & Record<string, string | undefined>) => {
    const id = ruleIdArg(raw);
    const mode = z.enum(['reject', 'override']).safeParse(o.duplicates);
    if (!mode.success) throw new UsageError('--duplicates: reject or override');
    const unset = (o.unset ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const bad = unset.find((f) => !UNSETTABLE.includes(f));
    if (bad)
      throw new UsageError(`--unset: "${bad}" cannot be cleared; give some of ${UNSETTABLE.join(', ')}`);
    const target = apiTarget(o);
    const current = await callApi<Rule>(target, 'GET', `/v1/rules/${id}`);
    const body = { ...ruleBody(current), ...ruleFields(o) };
    for (const f of unset) delete body[RULE_OPTIONS[f as keyof typeof RULE_OPTIONS]];
    if (current.expiresAt && !o.validity) {
      process.stderr.write(
        `rule ${id} expires at ${new Date(current.expiresAt).toISOString()}; without --validity it no longer expires\n`,
      );
    }
    const result = await callApi<{ rule: Rule; status: string }>(
      target,
      'PUT',
      `/v1/rules/${id}?duplicates=${mode.data}`,
      body,
    );
    out(o.json ? JSON.stringify(result) : `${result.status}: ${ruleLine(result.rule)}`);
  });

  connection(rules.command('rm').description('delete rules by id').argument('<ids...>', 'rule ids')).action(
    async (ids: string[], o: Connection) => {
      const target = apiTarget(o);
      const results: Array<{ id: number; deleted: boolean; error?: string }> = [];
      for (const raw of ids) {
        const id = Number(raw);
        if (!Number.isInteger(id) || id < 1) throw new UsageError(`"${raw}" is not a rule id`);
        try {
          await callApi(target, 'DELETE', `/v1/rules/${id}`);
          results.push({ id, deleted: true });
        } catch (error) {
          results.push({ id, deleted: false, error: (error as Error).message });
          process.exitCode = 1;
        }
      }
      if (o.json) out(JSON.stringify(results));
      else for (const r of results) out(r.deleted ? `deleted ${r.id}` : `not deleted ${r.id}: ${r.error}`);
    },
  );
}
