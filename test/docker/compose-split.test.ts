import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobReader, TextWriter, ZipReader } from '@zip.js/zip.js';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/store/redis-process.js';
import { AriDouble } from '../pbx/asterisk/ari-double.js';
import { eventually } from '../support/memory-logger.js';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.js';

/**
 * docker/compose.yaml run the way CI can, without a Docker engine: each callguard service's command is
 * started here with that service's environment (the Dockerfile's ENV under it), rewritten to loopback,
 * a private redis-server, free ports and a data folder of its own; the peers are the protocol doubles.
 */
const root = join(import.meta.dirname, '../..');
const BIN = join(root, 'bin/callguard.js');
const CALLGUARD_SERVICES = ['api', 'worker', 'ari', 'esl'];
/** What an operator exports before `docker compose up` (docker/README.md). */
const OPERATOR_ENV: Record<string, string> = {
  CALLGUARD_SYSTEM_KEY: 'compose-test-system-key-0123',
  CALLGUARD_SECRET_KEY: 'compose-test-secret-key-0123456789',
};

interface Service {
  command: string[];
  environment: Record<string, string>;
  image?: string;
  build?: unknown;
}

/** Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} with the operator's variables. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Z0-9_]+)(?::([-?])([^}]*))?\}/g,
    (_m, name: string, kind?: string, rest?: string) => {
      if (vars[name]) return vars[name]!;
      if (kind === '-') return rest ?? '';
      throw new Error(`compose needs ${name}: ${rest ?? 'unset'}`);
    },
  );
}

function dockerfileEnv(): Record<string, string> {
  const text = readFileSync(join(root, 'docker/Dockerfile'), 'utf8');
  const block = [...text.matchAll(/^ENV ([\s\S]*?)(?=^\S)/gm)].map((m) => m[1]).join(' ');
  return Object.fromEntries([...block.matchAll(/([A-Z][A-Z0-9_]*)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

const composeText = readFileSync(join(root, 'docker/compose.yaml'), 'utf8');
const compose = parse(composeText, { merge: true }) as { services: Record<string, Service> };

/** The environment a service's container gets: the image's ENV, then the service's, interpolated. */
function containerEnv(name: string): Record<string, string> {
  const service = compose.services[name]!;
  const env: Record<string, string> = { ...dockerfileEnv() };
  for (const [k, v] of Object.entries(service.environment ?? {}))
    env[k] = interpolate(String(v), OPERATOR_ENV);
  return env;
}

/** The port the Dockerfile HEALTHCHECK asks /readyz of, read from a container's environment. */
const healthcheckPort = (env: Record<string, string>) =>
  Number(env.CALLGUARD_HEALTH_PORT || env.CALLGUARD_HTTP_PORT || 7780);

describe.skipIf(skipWithoutRedis)('docker/compose.yaml, split by role, run locally', () => {
  let redis: TestRedis;
  let ari: AriDouble;
  const children = new Map<string, ChildProcess>();
  const output = new Map<string, string>();
  const healthUrl = new Map<string, string>();
  const dirs: string[] = [];
  let api = '';
  let eslPort = 0;

  beforeAll(async () => {
    redis = await startRedis({ private: true });
    const ariEnv = containerEnv('ari');
    ari = new AriDouble({ username: ariEnv.ARI_USERNAME, password: ariEnv.ARI_PASSWORD });
    const ariUrl = await ari.start();
    for (const name of CALLGUARD_SERVICES) {
      const service = compose.services[name]!;
      const env = containerEnv(name);
      const dataDir = mkdtempSync(join(tmpdir(), `cg-compose-${name}-`));
      dirs.push(dataDir);
      // the container's ports are all 7780/8084; on one host each gets its own
      const ports: Record<string, string> = {};
      for (const k of ['CALLGUARD_HTTP_PORT', 'CALLGUARD_HEALTH_PORT', 'ESL_LISTEN_PORT']) {
        if (env[k] !== undefined) ports[k] = String(await freePort());
      }
      if (env.CALLGUARD_HTTP_PORT === undefined) ports.CALLGUARD_HTTP_PORT = String(await freePort());
      const local: Record<string, string> = {
        ...env,
        ...ports,
        REDIS_URL: redis.url,
        CALLGUARD_HTTP_HOST: '127.0.0.1',
        ...(env.ESL_LISTEN_HOST ? { ESL_LISTEN_HOST: '127.0.0.1' } : {}),
        ...(env.ARI_URL ? { ARI_URL: ariUrl } : {}),
        CALLGUARD_DATA_DIR: dataDir,
        LOG_FORMAT: 'json',
      };
      const port = local.CALLGUARD_HEALTH_PORT ?? local.CALLGUARD_HTTP_PORT;
      healthUrl.set(name, `http://127.0.0.1:${port}`);
      if (name === 'api') api = `http://127.0.0.1:${local.CALLGUARD_HTTP_PORT}`;
      if (name === 'esl') eslPort = Number(local.ESL_LISTEN_PORT);
      const child = spawn(process.execPath, [BIN, ...service.command], {
        env: { PATH: process.env.PATH, ...local },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      output.set(name, '');
      const keep = (c: Buffer) => output.set(name, (output.get(name) ?? '') + String(c));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      children.set(name, child);
    }
    // they start side by side; one deadline for all four (a busy 2-core machine is slow to start four)
    const serving = (name: string) => (output.get(name) ?? '').includes('callguard serving');
    await eventually(() => CALLGUARD_SERVICES.every(serving), 240_000);
    for (const name of CALLGUARD_SERVICES)
      assert.ok(serving(name), `${name} did not start: ${output.get(name)}`);
  });

  afterAll(async () => {
    await Promise.all(
      [...children.values()].map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
        await exited;
        clearTimeout(hard);
      }),
    );
    await ari?.stop();
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('runs one image as four role services sharing one secret key, each with a health check it answers', async () => {
    for (const name of CALLGUARD_SERVICES) {
      const service = compose.services[name]!;
      assert.equal(service.image, 'callguard:local', `${name} runs the one image`);
      const env = containerEnv(name);
      assert.equal(
        env.CALLGUARD_SECRET_KEY,
        OPERATOR_ENV.CALLGUARD_SECRET_KEY,
        `${name} shares the secret key`,
      );
      // the HEALTHCHECK asks the port the role serves /readyz on
      const served = name === 'api' ? env.CALLGUARD_HTTP_PORT : env.CALLGUARD_HEALTH_PORT;
      assert.equal(
        healthcheckPort(env),
        Number(served),
        `${name}: the health check asks a port the role serves`,
      );
      for (const path of ['/healthz', '/readyz', '/metrics']) {
        const res = await fetch(`${healthUrl.get(name)}${path}`);
        assert.equal(res.status, 200, `${name} ${path}`);
        await res.arrayBuffer();
      }
    }
    const metrics = await (await fetch(`${healthUrl.get('ari')}/metrics`)).text();
    assert.match(metrics, /callguard_staleness_seconds/, 'call nodes expose the staleness the alerts use');
    const esl = compose.services.esl!.environment;
    assert.equal(esl.ESL_MODE, 'outbound');
    assert.ok(
      !('ESL_HOST' in esl) && !('ESL_PASSWORD' in esl),
      'no inbound-mode settings beside outbound mode',
    );
    const socket = createConnection({ host: '127.0.0.1', port: eslPort });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.destroy();
  });

  it('a rule written through the api service is decided by the ari call-node service', async () => {
    const created = await fetch(`${api}/v1/tenants`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${OPERATOR_ENV.CALLGUARD_SYSTEM_KEY}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ id: 'acme', withAdminKey: true }),
    });
    assert.equal(created.status, 201, await created.clone().text());
    const key = ((await created.json()) as { adminKey: { key: string } }).adminKey.key;
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const rule = await fetch(`${api}/v1/rules`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ called: '_3712!', action: 'block', direction: 'inbound' }),
    });
    assert.equal(rule.status, 201, await rule.clone().text());

    await ari.waitForApp(120_000);
    const call = async (called: string) => {
      const placed = ari.placeCall({
        called,
        calling: '14045550123',
        args: ['inbound'],
        variables: { CALLGUARD_TENANT: 'acme' },
      });
      assert.ok(placed, 'the ari service is connected');
      return (await placed.done).end;
    };
    // the call node learns of the new tenant and its rule from Redis: a bounded wait
    let end: string | undefined;
    for (let i = 0; i < 100 && end !== 'hangup'; i++) {
      end = await call('37121234567');
      if (end !== 'hangup') await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(end, 'hangup', 'the blocked number is hung up by the call node');
    assert.equal(await call('14045266123'), 'continue', 'another number goes on');

    const exported = await fetch(`${api}/v1/exports`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ password: 'Compose1=' }),
    });
    assert.equal(exported.status, 202, await exported.clone().text());
    const { href } = (await exported.json()) as { href: string };
    let view: { state: string; resultFile?: string; error?: unknown } = { state: 'waiting' };
    for (let i = 0; i < 600 && !['completed', 'failed'].includes(view.state); i++) {
      await new Promise((r) => setTimeout(r, 200));
      view = (await (await fetch(`${api}${href}`, { headers: auth })).json()) as typeof view;
    }
    assert.equal(view.state, 'completed', `the worker service ran the export: ${JSON.stringify(view)}`);
    const zip = await fetch(`${api}${view.resultFile}`, { headers: auth });
    assert.equal(zip.status, 200);
    const reader = new ZipReader(new BlobReader(await zip.blob()), { password: 'Compose1=' });
    const [entry] = await reader.getEntries();
    const text = await (entry as { getData: (w: TextWriter) => Promise<string> }).getData(new TextWriter());
    await reader.close();
    assert.match(text, /_3712!/, 'the zip opens with the password the api sealed and the worker opened');
  });
});
