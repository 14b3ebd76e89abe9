/**
 * The one error catalogue. Every error callguard reports to a user carries a stable code, an HTTP
 * status and a message that says what was wrong and what is accepted.
 */
export const errorCatalogue = {
  CG_ERR_NUMBER_INVALID: { status: 400, title: 'number is not valid' },
  CG_ERR_PATTERN_INVALID: { status: 400, title: 'number pattern is not valid' },
  CG_ERR_RULE_INVALID: { status: 400, title: 'rule is not valid' },
  CG_ERR_VALIDITY_INVALID: { status: 400, title: 'validity is not valid' },
  CG_ERR_INPUT_INVALID: { status: 400, title: 'request is not valid' },
  CG_ERR_CSV_INVALID: { status: 400, title: 'CSV file is not valid' },
  CG_ERR_CONFIG_INVALID: { status: 500, title: 'configuration is not valid' },
  CG_ERR_SNAPSHOT_CORRUPT: { status: 500, title: 'rule snapshot is corrupt' },
  CG_ERR_DUPLICATE_RULE: { status: 409, title: 'a rule with identical conditions exists' },
  CG_ERR_NOT_FOUND: { status: 404, title: 'not found' },
  CG_ERR_UNAUTHENTICATED: { status: 401, title: 'authentication required' },
  CG_ERR_FORBIDDEN: { status: 403, title: 'permission denied' },
  CG_ERR_CONFLICT: { status: 409, title: 'conflict' },
  CG_ERR_LIMIT_EXCEEDED: { status: 422, title: 'limit exceeded' },
  CG_ERR_PAYLOAD_TOO_LARGE: { status: 413, title: 'payload too large' },
  CG_ERR_UNAVAILABLE: { status: 503, title: 'dependency unavailable' },
  CG_ERR_INTERNAL: { status: 500, title: 'internal error' },
  CG_ERR_ESL_AUTH_FAILED: {
    status: 502,
    title: 'FreeSWITCH refused the event socket login (password or ACL)',
  },
  CG_ERR_ESL_CLOSED: { status: 503, title: 'the FreeSWITCH event socket connection is closed' },
  CG_ERR_ESL_PROTOCOL: {
    status: 502,
    title: 'the event socket peer sent a message past the accepted size',
  },
  CG_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'content type is not supported' },
  CG_ERR_METHOD_NOT_ALLOWED: { status: 405, title: 'method is not allowed on this path' },
  CG_ERR_SYSTEM_DISABLED: { status: 404, title: 'system endpoints are off (CALLGUARD_SYSTEM_KEY is unset)' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class CallguardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'CallguardError';
    this.code = code;
    this.status = errorCatalogue[code].status;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export const cgError = (code: ErrorCode, message: string, details?: unknown): CallguardError =>
  new CallguardError(code, message, details);
