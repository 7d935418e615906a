import type { ErrorRequestHandler, RequestHandler } from 'express';
import { z } from 'zod';
import { ERROR_CODES, FieldIssue, JoblineError, isJoblineError, type ErrorCode, type Logger } from '@jobline/libs';
import { requestId } from './request-telemetry';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  JOB_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  JOB_ALREADY_FINISHED: 409,
  JOB_NOT_CANCELLABLE: 409,
  JOB_NOT_RETRYABLE: 409,
  JOB_NOT_DISCARDABLE: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  RATE_LIMITED: 429,
  TOO_MANY_STREAMS: 503,
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
  OUTBOUND_UNEXPECTED_STATUS: 502,
  BLOB_NOT_FOUND: 404,
  EXPORT_NOT_READY: 409,
  BLOB_KEY_INVALID: 400,
  SCHEDULE_NOT_FOUND: 404,
  INTERNAL: 500,
};

const TITLES: Partial<Record<ErrorCode, string>> = {
  VALIDATION_FAILED: 'The request is invalid',
  UNAUTHORIZED: 'Authentication required',
  JOB_NOT_FOUND: 'Job not found',
  SCHEDULE_NOT_FOUND: 'Schedule not found',
  ROUTE_NOT_FOUND: 'Not found',
  METHOD_NOT_ALLOWED: 'Method not allowed',
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
  errors: z
    .array(FieldIssue)
    .optional()
    .describe(
      'every offending field, query parameter or header, or `(body)`, `(path)`: for VALIDATION_FAILED, ' +
        'PAYLOAD_TOO_LARGE and UNSUPPORTED_MEDIA_TYPE',
    ),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

/** The HTTP status an error code is answered with. */
export function problemStatus(code: ErrorCode): number {
  return STATUS[code];
}

export function problemType(code: ErrorCode): string {
  return `urn:jobline:problem:${code.toLowerCase().replaceAll('_', '-')}`;
}

const bodyIssue = (code: string, message: string): FieldIssue[] => [{ field: '(body)', code, message }];

/** An error from express itself (body-parser, the router): an http-errors object with a `type` and a `status`. */
interface HttpLayerError {
  type?: string;
  status?: number;
  message?: string;
  limit?: number;
}

/**
 * Errors that body-parser and the router raise about the request become the error family's codes here. What they do
 * not name by `type` but mark as the client's fault (a 4xx status: a body that does not inflate, a path that is not
 * percent-encoding) is still the client's: a 400, not a 500.
 */
function fromHttpLayer(err: unknown): JoblineError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { type, status, message, limit } = err as HttpLayerError;
  switch (type) {
    case 'entity.parse.failed':
      return new JoblineError('VALIDATION_FAILED', `malformed JSON: ${message}`, {
        details: bodyIssue('invalid_json', 'the body is not JSON'),
      });
    case 'entity.too.large':
      return new JoblineError('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit', {
        details: bodyIssue('too_big', `at most ${limit} bytes`),
      });
    case 'encoding.unsupported':
      return new JoblineError('UNSUPPORTED_MEDIA_TYPE', message ?? 'unsupported encoding', {
        details: [{ field: 'Content-Encoding', code: 'invalid_value', message: 'identity, gzip, deflate or br' }],
      });
    case 'charset.unsupported':
      return new JoblineError('UNSUPPORTED_MEDIA_TYPE', message ?? 'unsupported charset', {
        details: [{ field: 'Content-Type', code: 'invalid_value', message: 'a UTF charset, or none' }],
      });
  }
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  if (err instanceof URIError) {
    return new JoblineError('VALIDATION_FAILED', 'the path is not valid percent-encoding', {
      details: [{ field: '(path)', code: 'invalid_encoding', message: 'malformed percent-encoding' }],
    });
  }
  if (status === 413) return new JoblineError('PAYLOAD_TOO_LARGE', 'the request body exceeds the size limit');
  if (status === 415) return new JoblineError('UNSUPPORTED_MEDIA_TYPE', message ?? 'unsupported media type');
  return new JoblineError('VALIDATION_FAILED', 'the request body could not be read', {
    details: bodyIssue('unreadable', 'the body does not match its Content-Encoding or Content-Length'),
  });
}

/**
 * Every error leaves as RFC 9457 problem+json with a stable `type` and `code`. Unexpected errors are logged with
 * their stack and answered without internals.
 */
export function problemDetails(options: { logger: Logger; retryAfterSeconds: number }): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const known = isJoblineError(err) ? err : fromHttpLayer(err);
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
