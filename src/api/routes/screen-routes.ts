import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { z } from 'zod';
import type { TenantDecider } from '../../call/call-screener.js';
import type { Outcome } from '../../domain/blocklist-type.js';
import { type CallContext, instantSchema, instantTextSchema } from '../../domain/call-context.js';
import type { PolicyVerdict } from '../../domain/decision.js';
import { cgError } from '../../domain/errors.js';
import { MAX_NUMBER_LENGTH, normalizeNumber } from '../../domain/number.js';
import { plainName } from '../../domain/raw-call-fast-path.js';
import { nameSchema } from '../../domain/rule.js';
import { lookupSeconds } from '../../metrics.js';
import type { ApiApp, ApiDeps } from '../api-deps.js';
import { inScope, type TenantPrincipal, tenantOf } from '../auth.js';
import { countDecision, deciderOf } from '../decider-access.js';
import { fastBodyValidator } from '../fast-body-validator.js';
import { errorResponses } from '../schemas.js';
import { scopeOf } from '../tenant-context.js';
import {
  answerStream,
  csvAnswer,
  type HitOutcome,
  jsonAnswer,
  ndjsonAnswer,
  type Screened,
} from './screen-answer.js';

export const MAX_SCREEN_NUMBERS = 100_000;
/** 100,000 numbers of up to 64 characters, quoted and separated, fit. */
export const SCREEN_BODY_LIMIT = 16 * 1024 * 1024;

export const screenBody = z
  .object({
    taskId: nameSchema
      .optional()
      .describe('The outbound task: selects its bound groups. Absent: global rules only.'),
    numbers: z
      .array(z.string().max(64, 'at most 64 characters'))
      .max(MAX_SCREEN_NUMBERS, `at most ${MAX_SCREEN_NUMBERS} numbers per request`),
    at: instantSchema
      .optional()
      .describe(
        "When the calls are planned (epoch ms or ISO time): the task's contact policies are read as at then.",
      ),
  })
  .strict()
  .meta({
    id: 'ScreenRequest',
    description:
      'Also accepted: text/csv (one number per line, optional header "number") or application/x-ndjson (one JSON string or {"number"} per line), with taskId in the query; the answer then comes back in the same format, streamed. A CSV answer lists the numbers it could not screen after the others, with operation `invalid` and the reason.',
  });

/**
 * The usual JSON screen body (`numbers`, strings of at most 64 characters, and a plain `taskId`)
 * as it is; undefined for anything else, which screenBody then answers (fast-check tested).
 */
export function plainScreenBody(data: unknown): z.output<typeof screenBody> | undefined {
  if (typeof data !== 'object' || data === null || Object.getPrototypeOf(data) !== Object.prototype)
    return undefined;
  const body = data as Record<string, unknown>;
  let numbers: unknown;
  for (const key in body) {
    if (!Object.hasOwn(body, key)) return undefined;
    if (key === 'numbers') numbers = body[key];
    else if (key !== 'taskId' || !plainName(body[key])) return undefined;
  }
  if (!Array.isArray(numbers) || numbers.length > MAX_SCREEN_NUMBERS) return undefined;
  for (let i = 0; i < numbers.length; i++) {
    const n = numbers[i];
    if (typeof n !== 'string' || n.length > 64) return undefined;
  }
  return body as z.output<typeof screenBody>;
}

const hitSchema = z.object({
  index: z.number().int(),
  number: z.string(),
  ruleId: z
    .number()
    .int()
    .nullable()
    .describe('The blocking rule; null: a rule outside the OUs of an agent confined to them.'),
  typeId: z.string().optional(),
  operation: z.enum(['none', 'auto_wrap_up', 'pop_up']),
  businessResult: z.string().optional(),
  policyId: z.string().optional().describe('The contact policy that refuses the call (the rules allow it).'),
  reason: z
    .string()
    .optional()
    .describe("The policy's reason, e.g. 14:05 America/Chicago is outside Mon-Fri 08:00-21:00."),
});
const screenResult = z
  .object({
    taskId: z.string().optional(),
    total: z.number().int(),
    blocked: z.number().int(),
    allowed: z.number().int(),
    invalid: z.number().int(),
    results: z.array(hitSchema).describe('One entry per blocked number, in input order.'),
    errors: z.array(z.object({ index: z.number().int(), number: z.string(), message: z.string() })),
  })
  .meta({ id: 'ScreenResult' });

const JSON_TYPE = 'application/json; charset=utf-8';
const observe = lookupSeconds.labels('screen');
/** Digits only, at least one (a loop: a regular expression per number costs more). */
function plainDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Numbers decided between two yields to the event loop: a few milliseconds of work, so that a
 * 100,000-number list never holds up the calls (single-process mode) or the other requests for long.
 */
export const SCREEN_SLICE = 2_000;

/** A hit's outcome fields, in the order the answer has always listed them. */
function hitOutcome(
  typeId: string | undefined,
  outcome: Outcome,
  refusal: PolicyVerdict | undefined,
): HitOutcome {
  const o: { -readonly [K in keyof HitOutcome]: HitOutcome[K] } = { operation: outcome.operation };
  if (typeId !== undefined) o.typeId = typeId;
  if (outcome.businessResult !== undefined) o.businessResult = outcome.businessResult;
  if (refusal) {
    if (outcome.typeId !== undefined) o.typeId = outcome.typeId;
    o.policyId = refusal.id;
    o.reason = refusal.reason;
  }
  return o;
}

/**
 * Decides every number as an outbound call of the task, in memory; only blocks are listed. The list
 * is worked through in slices of SCREEN_SLICE with a yield to the event loop between them; every
 * number is decided against the engine taken at the start, so one list sees one rule set.
 */
export async function screenNumbers(
  decider: TenantDecider,
  numbers: readonly string[],
  task: string | undefined,
  at: number,
): Promise<Screened> {
  let busyNs = 0n;
  let t0 = process.hrtime.bigint();
  const policy = decider.policy;
  const asDialled = policy.mode === 'digits';
  const out: Screened = {
    total: numbers.length,
    blocked: 0,
    allowed: 0,
    invalid: 0,
    results: [],
    errors: [],
  };
  // One context, refilled per number: decide() reads it and keeps nothing of it.
  const ctx: { -readonly [K in keyof CallContext]: CallContext[K] } = {
    called: '',
    calling: '',
    direction: 'outbound',
    task,
    at,
  };
  const outcomes = new Map<string, HitOutcome>();
  for (let i = 0; i < numbers.length; i++) {
    if (i > 0 && i % SCREEN_SLICE === 0) {
      busyNs += process.hrtime.bigint() - t0;
      await yieldToLoop();
      t0 = process.hrtime.bigint();
    }
    const raw = numbers[i]!;
    // hot path: plain digits as dialled need no normalising
    if (asDialled && raw.length <= MAX_NUMBER_LENGTH && plainDigits(raw)) ctx.called = raw;
    else {
      try {
        ctx.called = normalizeNumber(raw, policy);
      } catch (error) {
        out.invalid++;
        out.errors.push({ index: i, number: raw, message: (error as Error).message });
        continue;
      }
    }
    const decision = decider.decide(ctx);
    if (decision.action !== 'block') {
      out.allowed++;
      continue;
    }
    out.blocked++;
    const refusal = decision.policy;
    // The rule's type without building the rule: a rule's block has the outcome of the rule's type,
    // which names it; only a block by a rule without a known type reads the rule itself.
    const typeId = (refusal ? undefined : decision.outcome.typeId) ?? decision.rule?.typeId;
    // The outcome is a function of the rule's type (or of the policy and its reason): one shared
    // object per type, not one per number.
    const key = refusal ? `${typeId ?? ''}\u001f${refusal.id}\u001f${refusal.reason}` : (typeId ?? '');
    let outcome = outcomes.get(key);
    if (!outcome) {
      outcome = hitOutcome(typeId, decision.outcome, refusal);
      outcomes.set(key, outcome);
    }
    out.results.push({ index: i, number: raw, ruleId: decision.ruleId ?? 0, outcome });
  }
  // The time spent deciding, not the time spent waiting for the loop between slices.
  busyNs += process.hrtime.bigint() - t0;
  observe.observe(Number(busyNs) / 1e9);
  countDecision('block', 'outbound', out.blocked);
  countDecision('allow', 'outbound', out.allowed);
  return out;
}

/** The whole of a streamed body as text; more than SCREEN_BODY_LIMIT bytes is refused. */
async function readText(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > SCREEN_BODY_LIMIT) {
      body.resume();
      throw cgError(
        'CG_ERR_PAYLOAD_TOO_LARGE',
        `the request body is larger than ${SCREEN_BODY_LIMIT} bytes`,
        {
          limit: SCREEN_BODY_LIMIT,
        },
      );
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** Line breaks as readline sees them: \r\n, \n or a lone \r. */
const LINE_BREAK = /\r\n|\n|\r/;

/**
 * Numbers from a streamed CSV or NDJSON body, one per line. The body (at most SCREEN_BODY_LIMIT) is
 * read whole and split: a line-by-line reader costs more than the screening of the list itself.
 */
async function readNumbers(body: Readable, ndjson: boolean): Promise<string[]> {
  const numbers: string[] = [];
  const lines = (await readText(body)).split(LINE_BREAK);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    // the usual CSV line, digits only: nothing to trim, cut or unquote
    if (!ndjson && plainDigits(lines[i]!)) {
      pushNumber(numbers, lines[i]!, line);
      continue;
    }
    const t = lines[i]!.trim();
    if (t === '') continue;
    let value: unknown;
    if (ndjson) {
      try {
        value = JSON.parse(t);
      } catch {
        throw cgError(
          'CG_ERR_INPUT_INVALID',
          `line ${line}: not JSON; each line is "number" or {"number": "..."}`,
        );
      }
      if (value && typeof value === 'object' && 'number' in value)
        value = (value as { number: unknown }).number;
      if (typeof value !== 'string') {
        throw cgError('CG_ERR_INPUT_INVALID', `line ${line}: each line is "number" or {"number": "..."}`);
      }
    } else {
      const comma = t.indexOf(',');
      value = (comma < 0 ? t : t.slice(0, comma)).replace(/^"|"$/g, '').trim();
      if (line === 1 && /^number$/i.test(value as string)) continue;
    }
    pushNumber(numbers, value as string, line);
  }
  return numbers;
}

/** `value`, the number of line `line`, added to `numbers`: at most 64 characters, MAX_SCREEN_NUMBERS numbers. */
function pushNumber(numbers: string[], value: string, line: number): void {
  if (value.length > 64) {
    throw cgError('CG_ERR_INPUT_INVALID', `line ${line}: a number has at most 64 characters`);
  }
  numbers.push(value);
  if (numbers.length > MAX_SCREEN_NUMBERS) {
    throw cgError('CG_ERR_LIMIT_EXCEEDED', `at most ${MAX_SCREEN_NUMBERS} numbers per request`, {
      max: MAX_SCREEN_NUMBERS,
    });
  }
}

/**
 * For an agent confined to its OUs: the id of a blocking rule of another OU becomes null, and a
 * refusal by another OU's contact policy loses the policy and its reason (the number is still
 * reported blocked, with its outcome). One read of the distinct rules and policies, not one per number.
 */
async function redactForeignRules(deps: ApiDeps, p: TenantPrincipal, s: Screened): Promise<Screened> {
  if (p.role !== 'agent' || s.results.length === 0) return s;
  const scope = await scopeOf(deps, p);
  if (scope === undefined) return s;
  const ids = [...new Set(s.results.map((h) => h.ruleId).filter((id): id is number => !!id))];
  const rules = await deps.rules.getMany(p.tenant, ids);
  const own = new Set(rules.filter((r) => r && inScope(scope, r.ou)).map((r) => r!.id));
  for (const h of s.results) if (h.ruleId !== null && !own.has(h.ruleId)) h.ruleId = null;
  const policyIds = [...new Set(s.results.map((h) => h.outcome.policyId).filter((id): id is string => !!id))];
  const policies = await Promise.all(policyIds.map((id) => deps.policies.get(p.tenant, id)));
  const ownPolicies = new Set(policies.filter((x) => x && inScope(scope, x.ou)).map((x) => x!.id));
  // refused by another OU's contact policy: still reported refused, without the policy or its reason
  const redacted = new Map<HitOutcome, HitOutcome>();
  for (const h of s.results) {
    const o = h.outcome;
    if (o.policyId === undefined || ownPolicies.has(o.policyId)) continue;
    let without = redacted.get(o);
    if (!without) {
      without = { ...o, policyId: undefined, reason: undefined };
      redacted.set(o, without);
    }
    h.outcome = without;
  }
  return s;
}

/** A call list → which numbers are blocked for the task, with the rule and the outcome. */
export function registerScreenRoutes(app: ApiApp, deps: ApiDeps): void {
  app.post(
    '/v1/screen',
    {
      config: { auth: 'rules:read', bodyTypes: ['application/json', 'text/csv', 'application/x-ndjson'] },
      bodyLimit: SCREEN_BODY_LIMIT,
      validatorCompiler: fastBodyValidator(plainScreenBody),
      schema: {
        tags: ['check'],
        summary: `Screen up to ${MAX_SCREEN_NUMBERS} numbers before dialling`,
        querystring: z.object({ taskId: nameSchema.optional(), at: instantTextSchema.optional() }).strict(),
        body: screenBody,
        response: { 200: screenResult, ...errorResponses },
      },
    },
    async (request, reply) => {
      const principal = tenantOf(request);
      const decider = await deciderOf(deps, principal.tenant);
      const body = request.body as unknown;
      if (body instanceof Readable) {
        const ndjson = (request.headers['content-type'] ?? '').includes('ndjson');
        const task = request.query.taskId;
        const numbers = await readNumbers(body, ndjson);
        const screened = await redactForeignRules(
          deps,
          principal,
          await screenNumbers(decider, numbers, task, request.query.at ?? deps.now()),
        );
        reply.header('x-callguard-total', screened.total);
        reply.header('x-callguard-blocked', screened.blocked);
        reply.header('x-callguard-invalid', screened.invalid);
        if (ndjson)
          return reply.type('application/x-ndjson').send(answerStream(ndjsonAnswer(task, screened)) as never);
        return reply.type('text/csv').send(answerStream(csvAnswer(screened)) as never);
      }
      const b = request.body;
      const task = b.taskId ?? request.query.taskId;
      const screened = await redactForeignRules(
        deps,
        principal,
        await screenNumbers(decider, b.numbers, task, b.at ?? request.query.at ?? deps.now()),
      );
      // streamed in chunks, the same bytes as the serializer's JSON.stringify of { taskId, ...screened }
      return reply.type(JSON_TYPE).send(answerStream(jsonAnswer(task, screened)) as never);
    },
  );
}
