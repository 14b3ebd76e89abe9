import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CallguardError } from '../domain/errors.js';
import { apiTarget, callApi } from './api-client.js';
import { followJob } from './import-command.js';
import { EXIT, err, out, UsageError } from './output.js';

interface ExportOptions {
  url?: string;
  key?: string;
  json?: boolean;
  password?: string;
  ou?: string;
  group?: string;
  type?: string;
  direction?: string;
  action?: string;
  prefix?: string;
  out?: string;
  server?: string;
  path: string;
  fileName?: string;
}

/**
 * `callguard export --password P --out rules.zip`: exports the rules matching the filter into an
 * AES-256 zip and downloads it, or with --server writes it to a file server.
 */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('export rules into an AES-256 encrypted zip of CSV files')
    .option(
      '--password <p>',
      'zip password: 8-12 letters and digits with one of @ _ ? = . * (or CALLGUARD_EXPORT_PASSWORD)',
    )
    .option('--ou <ou>')
    .option('--group <group>')
    .option('--type <type>')
    .option('--direction <d>', 'inbound | outbound | both')
    .option('--action <a>', 'block | allow')
    .option('--prefix <digits>', 'called or calling number starts with these digits')
    .option('--out <file>', 'download the zip to this file')
    .option('--server <id>', 'write the zip to this file server instead')
    .option('--path <path>', 'folder under the file server root', '')
    .option('--file-name <name>', 'zip name on the file server')
    .option('--url <url>', 'admin API base URL (default CALLGUARD_URL)')
    .option('--key <key>', 'API key (default CALLGUARD_API_KEY)')
    .option('--json', 'print the job as JSON')
    .action(async (o: ExportOptions) => {
      // The password from the environment keeps it out of shell history and process lists.
      const password = o.password ?? process.env.CALLGUARD_EXPORT_PASSWORD;
      if (!password) throw new UsageError('give --password or set CALLGUARD_EXPORT_PASSWORD');
      if (!o.server && !o.out)
        throw new UsageError('give --out FILE (download) or --server ID --file-name NAME');
      if (o.server && !o.fileName) throw new UsageError('--server needs --file-name');
      const target = apiTarget(o);
      const filter = {
        ...(o.ou ? { ou: o.ou } : {}),
        ...(o.group ? { groupId: o.group } : {}),
        ...(o.type ? { typeId: o.type } : {}),
        ...(o.direction ? { direction: o.direction } : {}),
        ...(o.action ? { action: o.action } : {}),
        ...(o.prefix ? { numberPrefix: o.prefix } : {}),
      };
      const { id } = await callApi<{ id: string }>(target, 'POST', '/v1/exports', {
        filter,
        password,
        ...(o.server ? { file: { serverId: o.server, path: o.path, fileName: o.fileName } } : {}),
      });
      const v = await followJob(target, id, o.json === true);
      if (v.state === 'failed') {
        err(`callguard: ${v.error?.code}: ${v.error?.message}`);
        process.exitCode = EXIT.failed;
        return;
      }
      if (o.out && v.resultFile) {
        const response = await fetch(`${target.url}${v.resultFile}`, {
          headers: { authorization: `Bearer ${target.key}` },
        });
        if (!response.ok || !response.body) {
          throw new CallguardError('CG_ERR_NOT_FOUND', `${v.resultFile}: HTTP ${response.status}`);
        }
        await pipeline(Readable.fromWeb(response.body as never), createWriteStream(o.out));
      }
      if (o.json) out(JSON.stringify(v));
      else out(`job ${v.id} ${v.state}: exported ${v.progress.exported}${o.out ? ` to ${o.out}` : ''}`);
    });
}
