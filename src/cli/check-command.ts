import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { z } from 'zod';
import type { TenantDecider } from '../call/call-screener.js';
import { rawCallSchema, toCallContext } from '../domain/call-context.js';
import type { Decision } from '../domain/decision.js';
import type { NormalizationPolicy } from '../domain/number.js';
import { actionSchema, callDirectionSchema, countrySchema } from '../domain/rule.js';
import type { DecisionEngine } from '../engine/decision-engine.js';
import { dumpIndex } from '../engine/index-dump.js';
import { csvRecords } from '../jobs/csv-records.js';
import { csvStream } from '../jobs/csv-writer.js';
import { apiTarget, callApi } from './api-client.js';
import { offlineDecider } from './offline-policies.js';
import { loadOfflineEngine } from './offline-rules.js';
import { EXIT, err, out, UsageError } from './output.js';

const optionsSchema = z
  .object({
    rules: z.string().min(1).optional(),
    url: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    bindings: z.string().min(1).optional(),
    policies: z.string().min(1).optional(),
    called: z.string().optional(),
    calling: z.string().optional(),
    direction: callDirectionSchema.default('inbound'),
    task: z.string().min(1).optional(),
    sbc: z.string().min(1).optional(),
    provider: z.string().min(1).optional(),
    customerGroup: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    at: z.iso.datetime({ offset: true, message: 'an ISO time such as 2026-11-22T10:00:00Z' }).optional(),
    batch: z.string().min(1).optional(),
    country: countrySchema.optional(),
    defaultAction: actionSchema.default('allow'),
    json: z.boolean().default(false),
    dump: z.boolean().default(false),
  })
  .refine((o) => o.batch !== undefined || o.called !== undefined || o.dump, {
    message: 'give --called (one call), --batch QUERIES.csv (many) or --dump (show the compiled index)',
  });

/** The call the options describe, checked like any external input. */
function callOf(o: z.infer<typeof optionsSchema>, at: number | undefined) {
  return rawCallSchema.parse({
    called: o.called,
    calling: o.calling,
    direction: o.direction,
    task: o.task,
    sbc: o.sbc,
    provider: o.provider,
    customerGroup: o.customerGroup,
    user: o.user,
    ...(at === undefined ? {} : { at }),
  });
}

function outcomeText(decision: Decision): string {
  if (decision.action !== 'block') return '';
  if (decision.policy) return `policy ${decision.policy.id}: ${decision.policy.reason}`;
  if (decision.outcome.operation !== 'none') return decision.outcome.operation;
  return decision.rule?.typeId ?? '';
}

function printDecision(decision: Decision, json: boolean, call: unknown): void {
  if (json) {
    out(JSON.stringify({ call, ...JSON.parse(JSON.stringify(decision)) }));
    return;
  }
  out(`${decision.action}${decision.rule ? ` (rule ${decision.rule.id})` : ''}`);
  out(`why: ${decision.why}`);
  if (decision.policy) out(`policy: ${decision.policy.id} (${decision.policy.reason})`);
  const outcome = decision.outcome;
  if (outcome.operation !== 'none') {
    const parts = Object.entries(outcome)
      .filter(([k]) => k !== 'operation')
      .map(([k, v]) => `${k}=${v}`);
    out(`outcome: ${outcome.operation}${parts.length ? ` ${parts.join(' ')}` : ''}`);
  }
}

async function runBatch(
  engine: Pick<DecisionEngine, 'decide'>,
  source: Readable,
  policy: NormalizationPolicy,
  at: number,
  defaultDirection: 'inbound' | 'outbound',
): Promise<number> {
  const records = csvRecords(source, () => {});
  const writer = csvStream(['called', 'calling', 'direction', 'task', 'action', 'rule_id', 'outcome']);
  writer.pipe(process.stdout);
  let bad = 0;
  for await (const batch of records)
    for (const { record, info } of batch) {
      const raw = rawCallSchema.safeParse({
        called: record.called ?? '',
        calling: record.calling || undefined,
        direction: record.direction?.trim().toLowerCase() || defaultDirection,
        task: record.task?.trim() || undefined,
        at,
      });
      if (!raw.success) {
        bad++;
        const issue = raw.error.issues[0];
        err(`queries:${info.lines}: ${String(issue.path[0])}: ${issue.message}`);
        writer.write([
          record.called ?? '',
          record.calling ?? '',
          record.direction ?? '',
          record.task ?? '',
          'error',
          '',
          '',
        ]);
        continue;
      }
      const decision = engine.decide(toCallContext(raw.data, policy, at));
      const ok = writer.write([
        raw.data.called,
        raw.data.calling ?? '',
        raw.data.direction,
        raw.data.task ?? '',
        decision.action,
        decision.rule?.id ?? '',
        outcomeText(decision),
      ]);
      if (!ok) await new Promise((resolve) => writer.once('drain', resolve));
    }
  writer.end();
  await new Promise((resolve) => writer.on('end', resolve).resume?.());
  return bad;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description(
      'decide one call (or a batch) against a rules file offline (--rules), or ask the admin API (--url/--key), and say why',
    )
    .option('--rules <file>', 'rules CSV in the import template format (offline); without it the API decides')
    .option('--url <url>', 'online: admin API base URL (default CALLGUARD_URL or http://127.0.0.1:7780)')
    .option('--key <key>', 'online: API key (default CALLGUARD_API_KEY)')
    .option('--bindings <file>', 'CSV task,group: which groups each outbound task is bound to')
    .option('--called <number>', 'the dialled number')
    .option('--calling <number>', 'the caller id number (empty: anonymous)')
    .option('--direction <direction>', 'inbound or outbound', 'inbound')
    .option('--task <task>', 'outbound task id (selects its bound groups)')
    .option('--sbc <sbc>')
    .option('--provider <provider>')
    .option('--customer-group <group>')
    .option('--user <user>')
    .option(
      '--policies <file>',
      'offline: contact policies JSON {"policies": [...], "tasks": {"task": ["policy"]}}',
    )
    .option('--at <iso-time>', 'decide as at this time (expiry, contact policy windows)')
    .option('--batch <file>', 'QUERIES.csv with columns called,calling,direction,task, or - for stdin')
    .option('--country <cc>', 'compare numbers as E.164 with this default country (default: as dialled)')
    .option('--default-action <action>', 'answer when no rule matches: allow or block', 'allow')
    .option('--json', 'print the decision as JSON')
    .option('--dump', 'print the compiled index (what went where) instead of deciding')
    .action(async (raw: Record<string, unknown>) => {
      const parsed = optionsSchema.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UsageError(`${issue.path.length ? `--${String(issue.path[0])}: ` : ''}${issue.message}`);
      }
      const o = parsed.data;
      if (!o.rules) {
        if (o.batch)
          throw new UsageError('--batch needs --rules (offline); online, screen lists with POST /v1/screen');
        const call = callOf(o, o.at ? Date.parse(o.at) : undefined);
        const decision = await callApi<Decision>(apiTarget(o), 'POST', '/v1/check', call);
        printDecision(decision, o.json, call);
        return;
      }
      const rulesFile = o.rules;
      const policy: NormalizationPolicy = o.country
        ? { mode: 'e164', defaultCountry: o.country }
        : { mode: 'digits' };
      const at = o.at ? Date.parse(o.at) : Date.now();
      const loaded = await loadOfflineEngine({
        rulesFile,
        bindingsFile: o.bindings,
        policy,
        defaultAction: o.defaultAction,
        now: Date.now(),
      });
      let bad = loaded.badRows;
      const decider: Pick<TenantDecider, 'decide'> = o.policies
        ? await offlineDecider(loaded.engine, policy, o.policies)
        : loaded.engine;
      if (o.dump) {
        out(dumpIndex(loaded.engine.base));
      } else if (o.batch) {
        const source = o.batch === '-' ? process.stdin : createReadStream(o.batch);
        bad += await runBatch(decider, source, policy, at, o.direction);
      } else {
        const call = callOf(o, at);
        printDecision(decider.decide(toCallContext(call, policy, at)), o.json, call);
      }
      if (bad > 0) {
        err(`${bad} bad row(s) reported above; good rows were used`);
        process.exitCode = EXIT.badRows;
      }
    });
}
