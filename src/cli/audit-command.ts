import type { Command } from 'commander';
import type { AuditEntry } from '../store/audit-repository.js';
import { apiTarget, callApi } from './api-client.js';
import { out, UsageError } from './output.js';

interface AuditPage {
  items: AuditEntry[];
  next?: string;
}

/** Stream ids (`ms-seq`) in time order. */
const newer = (a: string, b: string): boolean => {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am! > bm! || (am === bm && as! > bs!);
};

/** One line for people: time, who, what, which object; then what changed, field by field. */
export function auditLine(e: AuditEntry): string {
  const who = e.actor.name ? `${e.actor.keyId}(${e.actor.name})` : e.actor.keyId;
  const head = `${new Date(e.at).toISOString()}  ${who}  ${e.kind}.${e.action}  ${e.target}`;
  const before = (e.before ?? {}) as Record<string, unknown>;
  const after = (e.after ?? {}) as Record<string, unknown>;
  const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
    .map((k) => `${k}: ${JSON.stringify(before[k]) ?? '-'} -> ${JSON.stringify(after[k]) ?? '-'}`);
  return changed.length > 0 ? `${head}  ${changed.join('; ')}` : head;
}

/**
 * `callguard audit tail`: the tenant's last admin changes, oldest first, then (with --follow) each
 * new one as it is recorded, until interrupted. Through the API, so an agent key sees its OUs only.
 */
export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the audit trail of admin changes (who changed what, when, before and after)')
    .command('tail')
    .description('show the last admin changes, and with --follow the new ones as they come')
    .option('--limit <n>', 'how many of the last changes to show first', '20')
    .option('--kind <kind>', 'only changes to this kind of object (rule, group, type, ou, key, params, ...)')
    .option('--key-id <id>', 'only changes made with this key id')
    .option('-f, --follow', 'keep showing new changes until interrupted')
    .option('--interval <ms>', 'with --follow: how often to ask for new changes', '1000')
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'one JSON entry per line')
    .action(
      async (o: {
        limit: string;
        kind?: string;
        keyId?: string;
        follow?: boolean;
        interval: string;
        url?: string;
        key?: string;
        json?: boolean;
      }) => {
        const limit = Number(o.limit);
        const interval = Number(o.interval);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new UsageError(`--limit: "${o.limit}" is not a whole number from 1 to 1000`);
        if (!Number.isInteger(interval) || interval < 100)
          throw new UsageError(`--interval: "${o.interval}" is not a whole number of ms, at least 100`);
        const target = apiTarget(o);
        const filter = `${o.kind ? `&kind=${encodeURIComponent(o.kind)}` : ''}${o.keyId ? `&keyId=${encodeURIComponent(o.keyId)}` : ''}`;
        const page = (size: number, cursor?: string) =>
          callApi<AuditPage>(
            target,
            'GET',
            `/v1/audit?limit=${size}${filter}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
        const show = (e: AuditEntry) => out(o.json ? JSON.stringify(e) : auditLine(e));

        const first = await page(limit);
        for (const e of [...first.items].reverse()) show(e);
        if (!o.follow) return;
        let last = first.items[0]?.id ?? '0-0';
        let stopped = false;
        const stop = () => {
          stopped = true;
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        while (!stopped) {
          await new Promise((resolve) => setTimeout(resolve, interval));
          // Page back until the last change shown: nothing is skipped however many came meanwhile.
          const fresh: AuditEntry[] = [];
          for (let cursor: string | undefined, more = true; more && !stopped; ) {
            const p = await page(1000, cursor);
            const newOnes = p.items.filter((e) => newer(e.id, last));
            fresh.push(...newOnes);
            more = p.next !== undefined && newOnes.length === p.items.length;
            cursor = p.next;
          }
          for (const e of fresh.reverse()) show(e);
          if (fresh.length > 0) last = fresh[fresh.length - 1]!.id;
        }
      },
    );
}
