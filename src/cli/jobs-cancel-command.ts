import type { Command } from 'commander';
import type { JobView } from '../jobs/job-view.js';
import { apiTarget, callApi } from './api-client.js';
import { out } from './output.js';

/**
 * `callguard jobs cancel ID`: a queued job leaves its queue; a running one stops at its next batch
 * (with --wait, the command waits until it has).
 */
export function registerJobsCancelCommand(jobs: Command): void {
  jobs
    .command('cancel')
    .description('cancel a queued or running import or export')
    .argument('<id>', 'the job id')
    .option('--wait', 'wait until a running job has stopped')
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'print JSON')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      // --url, --key and --json also belong to `jobs` itself, which sees them first.
      const o = cmd.optsWithGlobals<{ wait?: boolean; url?: string; key?: string; json?: boolean }>();
      const target = apiTarget(o);
      const path = `/v1/jobs/${encodeURIComponent(id)}`;
      let v = await callApi<JobView>(target, 'POST', `${path}/cancel`);
      for (let i = 0; o.wait && v.state === 'active' && i < 600; i++) {
        await new Promise((r) => setTimeout(r, 200));
        v = await callApi<JobView>(target, 'GET', path);
      }
      if (o.json) {
        out(JSON.stringify(v));
        return;
      }
      out(
        v.state === 'cancelled'
          ? `${v.id}\tcancelled${v.error ? `\t${v.error.message}` : ''}`
          : `${v.id}\t${v.state}\tasked to stop: it stops at its next batch (callguard jobs ${v.id} shows when)`,
      );
    });
}
