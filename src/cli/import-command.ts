import { createWriteStream, openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CallguardError } from '../domain/errors.js';
import type { JobView } from '../jobs/job-view.js';
import { type ApiTarget, apiTarget, callApi } from './api-client.js';
import { registerJobsCancelCommand } from './jobs-cancel-command.js';
import { EXIT, err, out, UsageError } from './output.js';
import { parseValidity } from './rules-commands.js';

interface ImportOptions {
  url?: string;
  key?: string;
  json?: boolean;
  override: string;
  ou?: string;
  group?: string;
  type?: string;
  validity?: string;
  allowPartial?: boolean;
  server?: string;
  path?: string;
  errors?: string;
  wait: boolean;
}

/** A one-line progress bar on stderr (a terminal only), redrawn in place. */
export function progressLine(v: JobView): string {
  const p = v.progress;
  const total = p.total ?? 0;
  const done = v.kind === 'import' ? p.read : p.exported;
  const width = 30;
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  const bar = total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
  const counts =
    v.kind === 'import'
      ? `read ${p.read} imported ${p.imported} skipped ${p.skipped} failed ${p.failed}`
      : `exported ${p.exported}`;
  return `${bar}${v.state} ${counts}${p.phase ? ` (${p.phase})` : ''}`;
}

/** Polls a job until it ends, drawing the progress line. */
export async function followJob(target: ApiTarget, id: string, quiet: boolean): Promise<JobView> {
  const tty = process.stderr.isTTY === true && !quiet;
  for (let i = 0; ; i++) {
    const v = await callApi<JobView>(target, 'GET', `/v1/jobs/${encodeURIComponent(id)}`);
    if (tty) process.stderr.write(`\r\x1b[2K${progressLine(v)}`);
    if (v.state === 'completed' || v.state === 'failed') {
      if (tty) process.stderr.write('\n');
      return v;
    }
    await new Promise((r) => setTimeout(r, i < 10 ? 200 : 1000));
  }
}

async function download(target: ApiTarget, path: string, file: string): Promise<void> {
  const response = await fetch(`${target.url}${path}`, {
    headers: { authorization: `Bearer ${target.key}` },
  });
  if (!response.ok || !response.body)
    throw new CallguardError('CG_ERR_NOT_FOUND', `${path}: HTTP ${response.status}`);
  await pipeline(Readable.fromWeb(response.body as never), createWriteStream(file));
}

/**
 * `callguard import FILE`: uploads a rules CSV (≤ 50,000 records) or, with --server, imports FILE from
 * that file server (≤ 2,000,000), then follows the job with a progress bar and prints the counts.
 * Exit 3 when rows were refused (their errors go to --errors FILE).
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('import rules from a CSV file (upload, or --server for a file on a file server)')
    .argument('<file>', 'the CSV file (with --server: its name on the file server, under --path)')
    .option(
      '--override <rule>',
      'duplicates: skip | override | overwrite (the whole --ou/--group scope)',
      'skip',
    )
    .option('--ou <ou>', 'OU for rows without one (required with overwrite)')
    .option('--group <group>', 'group for rows without one')
    .option('--type <type>', 'type for rows without one')
    .option('--validity <v>', 'validity for rows without one: 3d, 12h, 6m, 1y')
    .option(
      '--allow-partial',
      'overwrite: apply a file with refused rows anyway (default: such a file applies and deletes nothing)',
    )
    .option('--server <id>', 'import from this file server instead of uploading')
    .option('--path <path>', 'folder under the file server root', '')
    .option('--errors <file>', 'write the per-row errors CSV here')
    .option('--no-wait', 'queue the job and print its id')
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'print the job as JSON')
    .action(async (file: string, o: ImportOptions) => {
      if (!['skip', 'override', 'overwrite'].includes(o.override)) {
        throw new UsageError('--override: skip, override or overwrite');
      }
      const target = apiTarget(o);
      const params: Record<string, unknown> = {
        overrideRule: o.override,
        ...(o.ou ? { ou: o.ou } : {}),
        ...(o.group ? { groupId: o.group } : {}),
        ...(o.type ? { typeId: o.type } : {}),
        ...(o.validity ? { validity: parseValidity(o.validity) } : {}),
        ...(o.allowPartial ? { allowPartial: true } : {}),
      };
      let id: string;
      if (o.server) {
        ({ id } = await callApi<{ id: string }>(target, 'POST', '/v1/imports', {
          serverId: o.server,
          path: o.path ?? '',
          fileName: file,
          ...params,
        }));
      } else {
        const form = new FormData();
        for (const [k, v] of Object.entries(params))
          form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
        form.set('file', await openAsBlob(file, { type: 'text/csv' }), basename(file));
        const response = await fetch(`${target.url}/v1/imports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${target.key}` },
          body: form,
        }).catch((error: Error) => {
          throw new CallguardError(
            'CG_ERR_UNAVAILABLE',
            `cannot reach the callguard API at ${target.url}: ${error.message}`,
          );
        });
        const body = (await response.json()) as { id?: string; code?: string; message?: string };
        if (!response.ok) {
          throw new CallguardError(
            (body.code ?? 'CG_ERR_INTERNAL') as never,
            body.message ?? `HTTP ${response.status}`,
          );
        }
        id = body.id!;
      }
      if (!o.wait) {
        out(o.json ? JSON.stringify({ id }) : id);
        return;
      }
      const v = await followJob(target, id, o.json === true);
      if (o.errors && v.errorsFile) await download(target, v.errorsFile, o.errors);
      if (o.json) out(JSON.stringify(v));
      else {
        const p = v.progress;
        out(
          `job ${v.id} ${v.state}: read ${p.read}, imported ${p.imported}, skipped ${p.skipped}, failed ${p.failed}`,
        );
      }
      if (v.state === 'failed') {
        err(`callguard: ${v.error?.code}: ${v.error?.message}`);
        process.exitCode = EXIT.failed;
      } else if (v.progress.failed > 0) {
        err(
          `callguard: ${v.progress.failed} rows were refused; ${o.errors ? `their errors are in ${o.errors}` : `see ${v.errorsFile} or pass --errors FILE`}`,
        );
        process.exitCode = EXIT.badRows;
      }
    });
}

/** `callguard jobs [id]`: the task view (imports and exports, newest first), or one job. */
export function registerJobsCommand(program: Command): void {
  const jobs = program.command('jobs');
  registerJobsCancelCommand(jobs);
  jobs
    .description('list imports and exports (the task view), or show one job')
    .argument('[id]', 'a job id')
    .option('--kind <kind>', 'import | export')
    .option('--limit <n>', 'jobs to list', '20')
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'print JSON')
    .action(
      async (
        id: string | undefined,
        o: { kind?: string; limit: string; url?: string; key?: string; json?: boolean },
      ) => {
        const target = apiTarget(o);
        const views = id
          ? [await callApi<JobView>(target, 'GET', `/v1/jobs/${encodeURIComponent(id)}`)]
          : (
              await callApi<{ items: JobView[] }>(
                target,
                'GET',
                `/v1/jobs?limit=${encodeURIComponent(o.limit)}${o.kind ? `&kind=${encodeURIComponent(o.kind)}` : ''}`,
              )
            ).items;
        if (o.json) {
          out(JSON.stringify(id ? views[0] : views));
          return;
        }
        for (const v of views) {
          const when = new Date(v.createdAt).toISOString();
          out(
            `${v.id}\t${v.kind}\t${when}\t${v.startedBy}\t${progressLine(v)}${v.error ? `\t${v.error.code}: ${v.error.message}` : ''}`,
          );
        }
      },
    );
}
