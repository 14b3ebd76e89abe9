import { z } from 'zod';
import { FileServerHostPolicy } from './jobs/file-server-hosts.js';
import { parseCidrList } from './pbx/freeswitch/peer-allowlist.js';

const PORT_ACCEPTED = 'a port number from 1 to 65535';
const port = z.coerce
  .number({ error: PORT_ACCEPTED })
  .int(PORT_ACCEPTED)
  .min(1, PORT_ACCEPTED)
  .max(65535, PORT_ACCEPTED);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => ['true', '1', 'yes'].includes(v));

/**
 * Every environment variable callguard reads, with its default and what it does. process.env is read
 * here and nowhere else; a bad value stops start-up with one line naming the variable.
 */
export const configSchema = z.object({
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379')
    .describe('Redis (or one node of a Redis Cluster) holding the rules; the source of truth.'),
  REDIS_CLUSTER: bool.default(false).describe('Treat REDIS_URL as a seed node of a Redis Cluster.'),
  CALLGUARD_EMBEDDED_REDIS: z
    .enum(['auto', 'never'])
    .default('auto')
    .describe('auto: when nothing answers at REDIS_URL and redis-server is installed, start a private one.'),
  CALLGUARD_DATA_DIR: z
    .string()
    .min(1)
    .default('.callguard')
    .describe('Folder for the embedded Redis data (AOF) and job files.'),
  CALLGUARD_STREAM_MAXLEN: z.coerce
    .number()
    .int()
    .min(1000)
    .default(100_000)
    .describe('Entries kept in each tenant change stream; a node further behind reloads the snapshot.'),
  CALLGUARD_SNAPSHOT_EVERY: z.coerce
    .number()
    .int()
    .min(1)
    .default(10_000)
    .describe('Rebuild the cached rule snapshot once this many changes have landed after it.'),
  CALLGUARD_HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('Address the admin API listens on.'),
  CALLGUARD_HTTP_PORT: port.default(7780).describe('Port the admin API listens on.'),
  CALLGUARD_HEALTH_PORT: port
    .optional()
    .describe(
      'A process without the api role (worker, call node) serves /healthz, /readyz and /metrics on this port (on CALLGUARD_HTTP_HOST); unset: none.',
    ),
  CALLGUARD_SYSTEM_KEY: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe('Key for the system endpoints (create tenants); unset: those endpoints are off.'),
  CALLGUARD_URL: z
    .url({ protocol: /^https?$/, message: 'an http:// or https:// URL' })
    .default('http://127.0.0.1:7780')
    .describe('CLI: base URL of the admin API the online commands (rules, check without --rules) talk to.'),
  CALLGUARD_API_KEY: z
    .string()
    .min(1)
    .optional()
    .describe('CLI: API key for the online commands (Authorization: Bearer).'),
  CALLGUARD_DEFAULT_TENANT: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Tenant used for calls that carry no CALLGUARD_TENANT. Unset (the default): such calls go back to the dialplan unscreened and its failure policy takes them (another tenant's rules and webhooks are never used by accident).",
    ),
  ARI_URL: z.string().url().default('http://127.0.0.1:8088').describe('Asterisk ARI base URL.'),
  ARI_USERNAME: z.string().default('callguard').describe('ARI user (ari.conf).'),
  ARI_PASSWORD: z.string().default('').describe('ARI password (ari.conf).'),
  ARI_APP: z.string().min(1).default('callguard').describe('Stasis application name.'),
  ARI_CLIENT: z
    .enum(['undici', 'ari-client'])
    .default('undici')
    .describe('ARI client: undici (small typed client, one round trip per call) or ari-client.'),
  ARI_PIPELINE: bool
    .default(true)
    .describe(
      "Send each call's variable requests and its continue/hangup back to back on one ARI connection.",
    ),
  ESL_LISTEN_HOST: z
    .string()
    .min(1)
    .default('127.0.0.1')
    .describe('Outbound socket mode: address to listen on.'),
  ESL_LISTEN_PORT: port.default(8084).describe('Outbound socket mode: port FreeSWITCH connects to.'),
  ESL_ALLOW_FROM: z
    .string()
    .default('127.0.0.1/32,::1/128')
    .superRefine((value, ctx) => {
      try {
        parseCidrList(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    })
    .describe(
      'Outbound socket mode: comma-separated CIDRs of the FreeSWITCH hosts allowed to connect; other peers are closed at once and counted (callguard_esl_peers_refused_total). IPv4 peers on IPv6 sockets (::ffff:a.b.c.d) are matched as IPv4.',
    ),
  ESL_HOST: z.string().min(1).default('127.0.0.1').describe('Inbound mode: FreeSWITCH event socket host.'),
  ESL_PORT: port.default(8021).describe('Inbound mode: FreeSWITCH event socket port.'),
  ESL_PASSWORD: z.string().default('ClueCon').describe('Inbound mode: event socket password.'),
  ESL_MODE: z
    .enum(['outbound', 'inbound', 'both'])
    .default('outbound')
    .describe(
      'FreeSWITCH: outbound socket mode (the socket app connects per call), inbound mode (park + events), or both.',
    ),
  ESL_TRANSFER_CONTEXT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'a dialplan context name')
    .default('callguard_result')
    .describe('Inbound mode: dialplan context that allowed (and announced) calls are transferred to.'),
  CALLGUARD_SECRET_KEY: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .describe(
      'Key that encrypts stored secrets (file server passwords and keys, scheduled export passwords, webhook secrets) with AES-256-GCM; every node must share it. Unset: a random key is created once in CALLGUARD_DATA_DIR/secret.key (development only).',
    ),
  CALLGUARD_FILE_SERVER_HOSTS: z
    .string()
    .optional()
    .refine(
      (v) => {
        try {
          FileServerHostPolicy.parse(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'comma-separated host names, IP addresses and CIDRs such as sftp.example.com,10.20.0.0/16' },
    )
    .describe(
      "Where tenants' SFTP file servers may be: comma-separated host names, IP addresses and CIDRs, checked when a file server is registered and at every connect after DNS resolution. Unset: anywhere.",
    ),
  CALLGUARD_JOB_CONCURRENCY: z.coerce
    .number()
    .int()
    .min(1)
    .max(64)
    .default(2)
    .describe('Import/export jobs one worker node runs at the same time (per queue).'),
  CALLGUARD_JOB_FILE_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .default(72)
    .describe('How long job files (errors CSV, export zip, uploaded file) and finished jobs are kept.'),
  CALLGUARD_JOB_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(10)
    .default(3)
    .describe(
      'Runs of an import/export job that failed on an outage (file server or Redis away) before it fails for good; bad input and a peer that does not speak SSH fail at once.',
    ),
  CALLGUARD_SFTP_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(500)
    .max(300_000)
    .default(15_000)
    .describe(
      'File servers: how long connecting and logging in, and each SFTP operation, may take; a server silent for this long mid-transfer (SSH keepalives unanswered) fails the job.',
    ),
  NODE_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, '1-64 letters, digits, _ . -')
    .optional()
    .describe('Name of this node, stored with each audited decision; unset: the host name.'),
  CALLGUARD_AUDIT_ALLOW_SAMPLE: z.coerce
    .number()
    .min(0)
    .max(1)
    .default(1)
    .describe('Share of allow decisions kept in the decision audit stream (blocks are always kept).'),
  CALLGUARD_AUDIT_MAXLEN: z.coerce
    .number()
    .int()
    .min(1000)
    .default(100_000)
    .describe('Decisions kept in each tenant decision audit stream.'),
  CALLGUARD_EVENTS_MAXLEN: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe('Events kept in each tenant event stream (what `callguard events tail` shows).'),
  CALLGUARD_NOTIFY_BUFFER: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe(
      'Events held in memory while Redis is unreachable; beyond it the oldest are dropped and counted.',
    ),
  CALLGUARD_WEBHOOK_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(60_000)
    .default(5000)
    .describe('Time limit of one webhook attempt.'),
  CALLGUARD_WEBHOOK_ATTEMPTS: z.coerce
    .number()
    .int()
    .min(1)
    .max(25)
    .default(8)
    .describe('Webhook attempts before a delivery goes to the dead-letter list.'),
  CALLGUARD_WEBHOOK_BACKOFF_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(1000)
    .describe('First webhook retry delay; doubles each attempt (with jitter), at most 10 minutes.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level.'),
  LOG_FORMAT: z
    .enum(['auto', 'json', 'pretty'])
    .default('auto')
    .describe('Log lines: auto (one-line readable lines on a terminal, JSON otherwise), json or pretty.'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError with one line per bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const known = Object.fromEntries(
    Object.keys(configSchema.shape).flatMap((k) =>
      env[k] === undefined || env[k] === '' ? [] : [[k, env[k]]],
    ),
  );
  const parsed = configSchema.safeParse(known);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map(
    (i) => `invalid setting ${String(i.path[0])}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`,
  );
  throw new ConfigError(lines.join('\n'));
}
