import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config.js';
import {
  type CheckResult,
  checkAri,
  checkEslInbound,
  checkListenPort,
  checkRedis,
  reachableHost,
} from './doctor-checks.js';
import { EXIT, out, UsageError } from './output.js';

const ROLES = ['api', 'ari', 'esl', 'worker'] as const;
const rolesSchema = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(ROLES, { message: `roles are ${ROLES.join(', ')}` })).min(1));

/** Runs every check that matters for the roles, prints what is wrong and how to fix it. */
export async function runDoctor(roles: readonly string[]): Promise<CheckResult[]> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message.split('\n').map((line) => ({
      check: 'config',
      status: 'fail' as const,
      detail: line,
      fix: 'see docs/CONFIGURATION.md for accepted values',
    }));
  }
  const results: CheckResult[] = [{ check: 'config', status: 'ok', detail: 'every setting is valid' }];
  results.push(...(await checkRedis(config)));
  // A running callguard answers /healthz on the api port, or (no api role) on CALLGUARD_HEALTH_PORT.
  const healthPort = roles.includes('api')
    ? config.CALLGUARD_HTTP_PORT
    : (config.CALLGUARD_HEALTH_PORT ?? config.CALLGUARD_HTTP_PORT);
  const healthUrl = `http://${reachableHost(config.CALLGUARD_HTTP_HOST)}:${healthPort}/healthz`;
  if (roles.includes('api')) {
    results.push(
      await checkListenPort(
        'api port',
        config.CALLGUARD_HTTP_HOST,
        config.CALLGUARD_HTTP_PORT,
        'CALLGUARD_HTTP_HOST / CALLGUARD_HTTP_PORT',
        healthUrl,
      ),
    );
    if (!config.CALLGUARD_SYSTEM_KEY) {
      results.push({
        check: 'system key',
        status: 'warn',
        detail: 'CALLGUARD_SYSTEM_KEY is unset: the API cannot create tenants (the CLI still can)',
        fix: 'set CALLGUARD_SYSTEM_KEY to a random string of at least 16 characters, or use callguard tenant create',
      });
    }
  }
  if (roles.includes('ari')) results.push(await checkAri(config));
  // ESL_MODE says which side of the event socket this node uses: only that side is checked.
  if (roles.includes('esl') && config.ESL_MODE !== 'outbound') results.push(await checkEslInbound(config));
  if (roles.includes('esl') && config.ESL_MODE !== 'inbound') {
    results.push(
      await checkListenPort(
        'esl outbound socket',
        config.ESL_LISTEN_HOST,
        config.ESL_LISTEN_PORT,
        'ESL_LISTEN_HOST / ESL_LISTEN_PORT',
        healthUrl,
      ),
    );
  }
  return results;
}

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check configuration, Redis (reachability and persistence), ARI and ESL; say what is wrong and how to fix it',
    )
    .option('--roles <roles>', `roles to check for, comma-separated (${ROLES.join(',')})`, ROLES.join(','))
    .option('--json', 'print the results as JSON lines')
    .action(async (options: { roles: string; json?: boolean }) => {
      const roles = rolesSchema.safeParse(options.roles);
      if (!roles.success) throw new UsageError(`--roles: ${roles.error.issues[0].message}`);
      const results = await runDoctor(roles.data);
      for (const r of results) {
        if (options.json) out(JSON.stringify(r));
        else out(`${r.status.padEnd(4)}  ${r.check}: ${r.detail}${r.fix ? `\n      fix: ${r.fix}` : ''}`);
      }
      if (results.some((r) => r.status === 'fail')) process.exitCode = EXIT.failed;
    });
}
