import { z } from 'zod';

/**
 * Stable error codes. Clients and data teams match on these strings; the producer maps each to an HTTP status in its
 * problem+json middleware. Add codes; never change what an existing one means.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'UNAUTHORIZED',
  'JOB_NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'JOB_ALREADY_FINISHED',
  'JOB_NOT_CANCELLABLE',
  'JOB_NOT_RETRYABLE',
  'JOB_NOT_DISCARDABLE',
  'IDEMPOTENCY_KEY_REUSED',
  'RATE_LIMITED',
  'TOO_MANY_STREAMS',
  'UNKNOWN_JOB_TYPE',
  'HANDLER_FAILED',
  'JOB_TIMED_OUT',
  'JOB_ABORTED',
  'KAFKA_UNAVAILABLE',
  'DEPENDENCY_UNAVAILABLE',
  'CONFIG_INVALID',
  'OUTBOUND_URL_INVALID',
  'OUTBOUND_ADDRESS_BLOCKED',
  'OUTBOUND_TOO_MANY_REDIRECTS',
  'OUTBOUND_RESPONSE_TOO_LARGE',
  'OUTBOUND_TIMEOUT',
  'OUTBOUND_NETWORK',
  'OUTBOUND_UNEXPECTED_STATUS',
  'BLOB_NOT_FOUND',
  'EXPORT_NOT_READY',
  'BLOB_KEY_INVALID',
  'SCHEDULE_NOT_FOUND',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export const FieldIssue = z.object({
  /** Dotted path of the offending field, e.g. `payload.ms`. */
  field: z.string(),
  message: z.string(),
  code: z.string(),
});
export type FieldIssue = z.infer<typeof FieldIssue>;

export interface JoblineErrorOptions {
  /** Whether trying the same thing again may succeed. Non-retryable job errors skip the remaining attempts. */
  retryable?: boolean;
  cause?: unknown;
  details?: FieldIssue[];
  /**
   * For a retryable job error: the next attempt must not start sooner than this many milliseconds after the failure
   * (a `Retry-After` the far side asked for). The retry then waits the longer of this and the job's backoff.
   */
  retryAfterMs?: number;
}

export class JoblineError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: FieldIssue[];
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: JoblineErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'JoblineError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? [];
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isJoblineError(err: unknown): err is JoblineError {
  return err instanceof JoblineError;
}
