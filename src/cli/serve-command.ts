import { type Command, Option } from 'commander';
import { z } from 'zod';
import { ROLE_NAMES } from '../app/roles.js';
import { serve } from '../app/serve.js';
import { loadConfig } from '../config.js';
import { UsageError } from './output.js';

export const rolesSchema = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .pipe(
    z
      .array(z.enum(ROLE_NAMES, { message: `roles are ${ROLE_NAMES.join(', ')}` }))
      .min(1, `give at least one role: ${ROLE_NAMES.join(', ')}`),
  );

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'run callguard: admin API, Asterisk ARI app, FreeSWITCH ESL app, bulk-jobs worker ' +
        '(call roles in a process of their own, under a supervisor)',
    )
    .option('--roles <roles>', `comma-separated roles among ${ROLE_NAMES.join(', ')}`, ROLE_NAMES.join(','))
    .option(
      '--single-process',
      'run every role in this one process, no supervisor (development, tests): a crash anywhere stops calls too',
    )
    // Set by the supervisor on its children: names the process in every log line.
    .addOption(new Option('--proc <name>').choices(['call', 'admin', 'all']).hideHelp())
    .action(async (options: { roles: string; singleProcess?: boolean; proc?: 'call' | 'admin' | 'all' }) => {
      const parsed = rolesSchema.safeParse(options.roles);
      if (!parsed.success) throw new UsageError(`--roles: ${parsed.error.issues[0]!.message}`);
      await serve(loadConfig(), {
        roles: new Set(parsed.data),
        singleProcess: options.singleProcess === true,
        proc: options.proc,
      });
    });
}
