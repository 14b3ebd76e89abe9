import { createReadStream } from 'node:fs';
import type { NormalizationPolicy } from '../domain/number.js';
import type { Action, Rule } from '../domain/rule.js';
import { DecisionEngine } from '../engine/decision-engine.js';
import { readBindingsCsv } from '../jobs/bindings-csv.js';
import { readRulesCsv } from '../jobs/rules-csv.js';
import { err } from './output.js';

/** Loads RULES.csv (and BINDINGS.csv) into an engine, reporting every bad row on stderr. */
export async function loadOfflineEngine(options: {
  rulesFile: string;
  bindingsFile?: string;
  policy: NormalizationPolicy;
  defaultAction: Action;
  now: number;
}): Promise<{ engine: DecisionEngine; rules: number; badRows: number }> {
  const rules: Rule[] = [];
  let badRows = 0;
  const source = createReadStream(options.rulesFile);
  for await (const batch of readRulesCsv(source, { policy: options.policy, now: options.now })) {
    for (const row of batch) {
      if ('rule' in row) rules.push(row.rule);
      else {
        badRows++;
        err(`${options.rulesFile}:${row.error.line}: ${row.error.column}: ${row.error.reason}`);
      }
    }
  }
  let bindings: Map<string, string[]> = new Map();
  if (options.bindingsFile) {
    const read = await readBindingsCsv(createReadStream(options.bindingsFile));
    bindings = read.bindings;
    for (const e of read.errors) {
      badRows++;
      err(`${options.bindingsFile}:${e.line}: ${e.column}: ${e.reason}`);
    }
  }
  const engine = DecisionEngine.fromRules(rules, { bindings, defaultAction: options.defaultAction });
  return { engine, rules: rules.length, badRows };
}
