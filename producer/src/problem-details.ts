import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { ERROR_CODES, FieldIssue, JoblineError, isJoblineError, type ErrorCode, type Logger } from '@jobline/libs';
import { requestId } from './request-telemetry';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  JOB_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  JOB_ALREADY_FINISHED: 409,
  JOB_NOT_CANCELLABLE: 409,
  JOB_NOT_RETRYABLE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  IDEMPOTENT_REQUEST_IN_PROGRESS: 409,
  RATE_LIMITED: 429,
  UNKNOWN_JOB_TYPE: 400,
  HANDLER_FAILED: 500,
  JOB_TIMED_OUT: 500,
  JOB_ABORTED: 500,
  KAFKA_UNAVAILABLE: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  CONFIG_INVALID: 500,
  OUTBOUND_URL_INVALID: 400,
  OUTBOUND_ADDRESS_BLOCKED: 400,
  OUTBOUND_TOO_MANY_REDIRECTS: 502,
  OUTBOUND_RESPONSE_TOO_LARGE: 502,
  OUTBOUND_TIMEOUT: 504,
  OUTBOUND_NETWORK: 502,
  INTERNAL: 500,
};

const TITLES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'The request is invalid',
  UNAUTHORIZED: 'Authentication required',
  JOB_NOT_FOUND: 'Job not found',
  ROUTE_NOT_FOUND: 'Not found',
  PAYLOAD_TOO_LARGE: 'Request body too large',
  UNSUPPORTED_MEDIA_TYPE: 'Unsupported media type',
  RATE_LIMITED: 'Too many requests',
  KAFKA_UNAVAILABLE: 'The job log is unavailable',
  INTERNAL: 'Internal error',
};

/** The body of every error response (RFC 9457 problem details with jobline's `code` and field issues). */
export const ProblemDetails = z.object({
  type: z.string().describe('`urn:jobline:problem:<code>`, the code in kebab case'),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(ERROR_CODES),
  detail: z.string(),
  instance: z.string().describe('the request path'),
  errors: z.array(FieldIssue).optional().describe('every offending field, for VALIDATION_FAILED'),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** The HTTP status an error code is answered with. */
export function problemStatus(code: ErrorCode): number {
  return STATUS[code];
}

export function problemType(code: ErrorCode): string {
  return `urn:jobline:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

/** Body-parser errors carry a `type`; they become the error family's codes here. */
function fromBodyParser(err: { type?: string; message?: string }): JoblineError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new JoblineError('VALIDATION_FAILED', `malformed JSON: ${err.message}`);
    case 'entity.too.large':
      return new JoblineError('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new JoblineError('UNSUPPORTED_MEDIA_TYPE', err.message ?? 'unsupported encoding');
    default:
      return undefined;
  }
}

/**
 * Every error leaves as RFC 9457 problem+json with a stable `type` and `code`. Unexpected errors are logged with
 * their stack and answered without internals.
 */
export function problemDetails(options: { logger: Logger; retryAfterSeconds: number }): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = isJoblineError(err) ? err : fromBodyParser(err as { type?: string });
    const error = known ?? new JoblineError('INTERNAL', 'an unexpected error occurred');
    const status = STATUS[error.code];
    if (!known || status >= 500) {
      options.logger.log(known ? 'warn' : 'error', 'request failed', {
        requestId: requestId(res),
        code: error.code,
        method: req.method,
        path: req.path,
        err: err instanceof Error ? { message: err.message, stack: err.stack, cause: String(err.cause ?? '') } : err,
      });
    }
    if (status === 503) res.set('Retry-After', String(options.retryAfterSeconds));
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="jobline"');
    res
      .status(status)
      .type('application/problem+json')
      .json({
        type: problemType(error.code),
        title: TITLES[error.code] ?? error.code,
        status,
        code: error.code,
        detail: error.message,
        instance: req.originalUrl,
        ...(error.details.length > 0 ? { errors: error.details } : {}),
      } satisfies ProblemDetails);
  };
}

export const routeNotFound: RequestHandler = (req, _res, next) => {
  next(new JoblineError('ROUTE_NOT_FOUND', `no route for ${req.method} ${req.path}`));
};
