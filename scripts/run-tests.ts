/**
 * Runs the whole suite with vitest (coverage by @vitest/coverage-v8) and ends with one plain line,
 * `N passed, N failed, N skipped`, so that whoever reads the log's last line knows the result.
 * Extra arguments go to vitest, e.g. `npm run test:unit -- test/domain` or `-t snapshot`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'callguard-vitest-'));
const results = join(dir, 'results.json');
const run = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--coverage',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${results}`,
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit' },
);

interface JsonResults {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
}
let summary: JsonResults | undefined;
try {
  summary = JSON.parse(readFileSync(results, 'utf8')) as JsonResults;
} catch {
  // vitest ended before writing its results (a crash or a bad argument): its exit code says so.
}
rmSync(dir, { recursive: true, force: true });
if (summary) {
  const failed = summary.numFailedTests;
  console.log(
    `${summary.numPassedTests} passed, ${failed} failed, ${summary.numPendingTests + summary.numTodoTests} skipped`,
  );
}
process.exit(run.status ?? 1);
