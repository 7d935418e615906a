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

export const CreateJobRequest = z
  .object({
    type: z.string().min(1).max(100),
    payload: z.record(z.string(), z.unknown()).default({}),
    metadata: z
      .record(z.string().max(100), z.string().max(1000))
      .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata entries')
      .default({}),
  })
  .strict();
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
  return { ...request, payload: payload.data };
}

/** The event that records a client's request. The job id is assigned here, at the edge. */
export function jobRequestedEvent(request: CreateJobRequest, tenantId: string, now: Date): JobEventOf<'JobRequested'> {
  return newEvent(
    'JobRequested',
    { jobId: randomUUID(), tenantId, source: 'producer', now },
    {
      type: request.type,
      payload: request.payload,
      runAt: null,
      maxAttempts: 1,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      callbackUrl: null,
      notify: null,
      metadata: request.metadata,
      idempotencyKey: null,
    },
  );
}
