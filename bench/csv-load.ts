import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Rule } from '../src/domain/rule.js';
import { DecisionEngine } from '../src/engine/decision-engine.js';
import { readRulesCsv } from '../src/jobs/rules-csv.js';
import { syntheticRules } from './synthetic-rules.js';

/** How long `callguard check --rules` takes to stream, validate and compile a rules file of `rows` rows. */
export async function csvLoad(rows: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-bench-'));
  const file = join(dir, 'rules.csv');
  const out = createWriteStream(file);
  out.write('id,called,calling,direction,action,group,type\n');
  for (const r of syntheticRules(rows - Math.floor(rows / 100), Math.floor(rows / 100))) {
    const line = `${r.id},${r.called ?? ''},${r.calling ?? ''},${r.direction},${r.action},${r.groupId ?? ''},${r.typeId ?? ''}\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rules: Rule[] = [];
  let bad = 0;
  for await (const batch of readRulesCsv(createReadStream(file), {
    policy: { mode: 'digits' },
    now: Date.now(),
  })) {
    for (const row of batch) {
      if ('rule' in row) rules.push(row.rule);
      else bad++;
    }
  }
  const parseMs = performance.now() - t0;
  DecisionEngine.fromRules(rules);
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  return {
    scenario: `rules csv load ${rows / 1e6}M rows`,
    rows,
    bad_rows: bad,
    parse_ms: Math.round(parseMs),
    load_and_compile_ms: Math.round(totalMs),
    // On a shared machine wall time depends on the neighbours; this process's CPU time much less.
    load_and_compile_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
  };
}
