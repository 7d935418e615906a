import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  DEFAULT_BACKOFF,
  JOB_PAYLOAD_SCHEMAS,
  JOB_TYPES,
  JoblineError,
  isJobType,
  newEvent,
  type FieldIssue,
  type JobEventOf,
} from '@jobline/libs';

/** Attempts a job gets unless it asks otherwise, and the most it may ask for. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 25;
/** The furthest a job may be scheduled ahead: a year. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;
const HOUR_MS = 3_600_000;

export const CreateJobRequest = z
  .object({
    type: z.string().min(1).max(100),
    payload: z.record(z.string(), z.unknown()).default({}),
    metadata: z
      .record(z.string().max(100), z.string().max(1000))
      .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata entries')
      .default({}),
    /** Attempts before the job fails for good and is dead-lettered. */
    maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT).default(DEFAULT_MAX_ATTEMPTS),
    /** Wait between attempts; equal jitter is applied. */
    backoff: z
      .object({
        type: z.enum(['fixed', 'exponential']),
        delayMs: z
          .number()
          .int()
          .min(0)
          .max(24 * HOUR_MS),
        maxDelayMs: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * HOUR_MS)
          .optional(),
      })
      .strict()
      .optional(),
    /** Longest one attempt may run; past it the handler is aborted and the attempt counts as failed. */
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(24 * HOUR_MS)
      .optional(),
    /** Do not start before this instant (ISO 8601 with offset). */
    runAt: z.iso.datetime({ offset: true }).optional(),
    /** Do not start before this many milliseconds from now. */
    delayMs: z.number().int().min(0).max(MAX_SCHEDULE_AHEAD_MS).optional(),
  })
  .strict()
  .refine((r) => r.runAt === undefined || r.delayMs === undefined, {
    message: 'give runAt or delayMs, not both',
    path: ['delayMs'],
  });
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;

export function toFieldIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: [...prefix, ...issue.path].map(String).join('.') || '(body)',
    message: issue.message,
    code: issue.code,
  }));
}

/** Validates the body and the payload against the job type's schema; throws VALIDATION_FAILED with every issue. */
export function parseCreateJob(body: unknown): CreateJobRequest {
  const parsed = CreateJobRequest.safeParse(body ?? {});
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', 'the job request is invalid', { details: toFieldIssues(parsed.error) });
  }
  const request = parsed.data;
  if (!isJobType(request.type)) {
    throw new JoblineError('VALIDATION_FAILED', 'the job request is invalid', {
      details: [{ field: 'type', code: 'invalid_value', message: `unknown job type; one of: ${JOB_TYPES.join(', ')}` }],
    });
  }
  const payload = JOB_PAYLOAD_SCHEMAS[request.type].safeParse(request.payload);
  if (!payload.success) {
    throw new JoblineError('VALIDATION_FAILED', `the payload is invalid for job type ${request.type}`, {
      details: toFieldIssues(payload.error, ['payload']),
    });
  }
  if (request.runAt !== undefined && Date.parse(request.runAt) - Date.now() > MAX_SCHEDULE_AHEAD_MS) {
    throw new JoblineError('VALIDATION_FAILED', 'the job request is invalid', {
      details: [{ field: 'runAt', code: 'too_big', message: 'runAt may be at most a year ahead' }],
    });
  }
  return { ...request, payload: payload.data };
}

/** When the job may start: `runAt`, or now + `delayMs`; null means now. */
function startTime(request: CreateJobRequest, now: Date): string | null {
  if (request.runAt !== undefined) return new Date(request.runAt).toISOString();
  if (request.delayMs !== undefined && request.delayMs > 0)
    return new Date(now.getTime() + request.delayMs).toISOString();
  return null;
}

/** The event that records a client's request. The job id is assigned here, at the edge. */
export function jobRequestedEvent(
  request: CreateJobRequest,
  tenantId: string,
  now: Date,
  idempotencyKey: string | null = null,
): JobEventOf<'JobRequested'> {
  return newEvent(
    'JobRequested',
    { jobId: randomUUID(), tenantId, source: 'producer', now },
    {
      type: request.type,
      payload: request.payload,
      runAt: startTime(request, now),
      maxAttempts: request.maxAttempts,
      backoff: request.backoff ?? DEFAULT_BACKOFF,
      timeoutMs: request.timeoutMs ?? null,
      callbackUrl: null,
      notify: null,
      metadata: request.metadata,
      idempotencyKey,
    },
  );
}

/** An `Idempotency-Key` header: absent, or 1 to 255 visible ASCII characters. */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new JoblineError('VALIDATION_FAILED', 'the Idempotency-Key header is invalid', {
      details: [{ field: 'Idempotency-Key', code: 'invalid_format', message: '1 to 255 visible ASCII characters' }],
    });
  }
  return header;
}
