import { z } from 'zod';
import { envelopeSchema, EVENT_SCHEMA_VERSION, EventSource } from './event-envelope';

export { EVENT_SCHEMA_VERSION, EventSource };

/**
 * The job event contract published on `jobline.job-events`. Every schema here is declared once; the TypeScript
 * types, the published JSON Schemas and the OpenAPI document are all derived from it. Extend with new event types
 * and optional fields; never repurpose an existing one.
 */
export const JobErrorInfo = z.object({
  code: z.string().min(1),
  message: z.string(),
  retryable: z.boolean(),
});
export type JobErrorInfo = z.infer<typeof JobErrorInfo>;

export const BackoffPolicy = z.object({
  type: z.enum(['fixed', 'exponential']),
  delayMs: z.number().int().min(0),
  maxDelayMs: z.number().int().min(0).optional(),
});
export type BackoffPolicy = z.infer<typeof BackoffPolicy>;

// The address is checked by zod's email pattern, which the schema states; JSON Schema's `email` format is narrower
// (no label may end in a hyphen), so stating it too would make the schema refuse events jobline writes.
export const NotifySpec = z.object({ email: z.email().meta({ format: undefined }) });
export type NotifySpec = z.infer<typeof NotifySpec>;

const timestamp = z.iso.datetime({ offset: true });

/** Job priorities: 1 (lowest) to 9 (highest); a job asked without one has 5. See `runner/src/work-scheduler.ts`. */
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 9;
export const DEFAULT_PRIORITY = 5;
export const Priority = z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY);

export const JobRequestedData = z.object({
  type: z.string().min(1),
  payload: z.unknown(),
  runAt: timestamp.nullable(),
  maxAttempts: z.number().int().min(1),
  backoff: BackoffPolicy,
  timeoutMs: z.number().int().positive().nullable(),
  callbackUrl: z.url().nullable(),
  notify: NotifySpec.nullable(),
  metadata: z.record(z.string(), z.string()),
  idempotencyKey: z.string().nullable(),
  /** When runners are saturated, higher-priority jobs start first. Absent from events written before it existed: 5. */
  priority: Priority.optional(),
});

export const JobStartedData = z.object({
  attempt: z.number().int().min(1),
  runnerId: z.string().min(1),
});

export const JobProgressedData = z.object({
  attempt: z.number().int().min(1),
  current: z.number().min(0),
  total: z.number().min(0).nullable(),
  message: z.string().nullable(),
});

export const JobCompletedData = z.object({
  attempt: z.number().int().min(1),
  result: z.unknown(),
  resultUrl: z.string().nullable(),
});

export const JobAttemptFailedData = z.object({
  attempt: z.number().int().min(1),
  error: JobErrorInfo,
  /** Set when another attempt is scheduled; absent when this failure is terminal. */
  nextRunAt: timestamp.nullable(),
});

export const JobDeadLetteredData = z.object({
  attempt: z.number().int().min(0),
  error: JobErrorInfo.nullable(),
});

export const JobCancelRequestedData = z.object({
  reason: z.string().nullable(),
});

export const JobCancelledData = z.object({
  reason: z.string().nullable(),
});

export const JobRetryRequestedData = z.object({
  /**
   * The attempt number up to which the redriven job may run (attempt numbers keep counting across redrives, so that
   * every event stays absolute and replays of older attempts are recognisable).
   */
  attemptLimit: z.number().int().min(1),
  /** The bulk job (`deadLetters.redrive`) that redrove this one; absent for a redrive asked for the job alone. */
  bulkJobId: z.uuid().optional(),
});

/**
 * A failed job set aside for good: it leaves the dead letters, stays terminal (`discarded`) and keeps its history.
 * Applies only while the job is still failed from `attempt`: a discard decided on an older failure, read after a
 * redrive, changes nothing.
 */
export const JobDiscardedData = z.object({
  attempt: z.number().int().min(0),
  reason: z.string().nullable(),
  /** The bulk job (`deadLetters.discard`) that discarded this one. */
  bulkJobId: z.uuid().nullable(),
});

function eventSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return envelopeSchema({ jobId: z.uuid() }, type, data);
}

export const JobRequested = eventSchema('JobRequested', JobRequestedData);
export const JobStarted = eventSchema('JobStarted', JobStartedData);
export const JobProgressed = eventSchema('JobProgressed', JobProgressedData);
export const JobCompleted = eventSchema('JobCompleted', JobCompletedData);
export const JobAttemptFailed = eventSchema('JobAttemptFailed', JobAttemptFailedData);
export const JobDeadLettered = eventSchema('JobDeadLettered', JobDeadLetteredData);
export const JobCancelRequested = eventSchema('JobCancelRequested', JobCancelRequestedData);
export const JobCancelled = eventSchema('JobCancelled', JobCancelledData);
export const JobRetryRequested = eventSchema('JobRetryRequested', JobRetryRequestedData);
export const JobDiscarded = eventSchema('JobDiscarded', JobDiscardedData);

export const JobEvent = z.discriminatedUnion('type', [
  JobRequested,
  JobStarted,
  JobProgressed,
  JobCompleted,
  JobAttemptFailed,
  JobDeadLettered,
  JobCancelRequested,
  JobCancelled,
  JobRetryRequested,
  JobDiscarded,
]);
export type JobEvent = z.infer<typeof JobEvent>;
export type JobEventType = JobEvent['type'];
export type JobEventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;

export const JOB_EVENT_TYPES = JobEvent.options.map((o) => o.shape.type.value) as JobEventType[];
