// First: refuses an unsupported Node.js before anything else loads.
import './node-guard.js';
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config.js';
import { CallguardError } from '../domain/errors.js';
import { CsvHeaderError } from '../jobs/rules-csv.js';
import { registerAuditCommand } from './audit-command.js';
import { registerCheckCommand } from './check-command.js';
import { registerCompletionCommand } from './completion-command.js';
import { registerDoctorCommand } from './doctor-command.js';
import { registerEventsCommand } from './events-command.js';
import { registerExportCommand } from './export-command.js';
import { registerImportCommand, registerJobsCommand } from './import-command.js';
import { registerKeyCommands } from './key-commands.js';
import { EXIT, err, UsageError } from './output.js';
import { registerRulesCommands } from './rules-commands.js';
import { registerServeCommand } from './serve-command.js';
import { registerTenantCommands } from './tenant-commands.js';

const program = new Command('callguard')
  .description('call blocklist / allowlist engine for Asterisk (ARI) and FreeSWITCH (ESL)')
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });
registerCheckCommand(program);
registerDoctorCommand(program);
registerEventsCommand(program);
registerServeCommand(program);
registerTenantCommands(program);
registerKeyCommands(program);
registerAuditCommand(program);
registerRulesCommands(program);
registerImportCommand(program);
registerJobsCommand(program);
registerExportCommand(program);
// last: the completion script lists every command registered above
registerCompletionCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  } else if (error instanceof UsageError || error instanceof CsvHeaderError || error instanceof ConfigError) {
    err(`callguard: ${error.message}`);
    process.exitCode = EXIT.usage;
  } else if (error instanceof CallguardError) {
    err(`callguard: ${error.code}: ${error.message}`);
    process.exitCode = EXIT.failed;
  } else if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    err(`callguard: ${(error as Error).message}`);
    process.exitCode = EXIT.usage;
  } else {
    err(`callguard: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = EXIT.failed;
  }
}
