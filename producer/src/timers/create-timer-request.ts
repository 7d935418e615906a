import { z } from 'zod';
import {
  HTTP_JOB_LIMITS,
  HTTP_URL_FORMAT,
  JOB_STATUSES,
  JoblineError,
  isJoblineError,
  type JobView,
} from '@jobline/libs';
import {
  MAX_SCHEDULE_AHEAD_MS,
  RESERVED_METADATA_PREFIX,
  parseCreateJob,
  toFieldIssues,
  type CreateJobRequest,
  type JobRequestLimits,
} from '../jobs/create-job-request';

/** The metadata entry that makes an `http` job a timer; its value is the instant the timer is due. */
export const TIMER_METADATA_KEY = `${RESERVED_METADATA_PREFIX}timer`;

const DURATION_UNITS = { hours: 3_600_000, minutes: 60_000, seconds: 1000 } as const;
type DurationUnit = keyof typeof DURATION_UNITS;

/** The body of `POST /v1/timers`: a URL to call once, when due, given as an instant or as a duration from now. */
export const CreateTimerRequest = z
  .object({
    url: z
      .string()
      .max(HTTP_JOB_LIMITS.urlLength)
      .meta(HTTP_URL_FORMAT)
      .describe(
        'http(s) URL that gets a POST with `{"id": <timer id>, "payload": <payload>}` as JSON, signed ' +
          '(Jobline-Signature), when the timer is due; loopback, private and metadata addresses are refused',
      )
      .optional(),
    webhookUrl: z
      .string()
      .max(HTTP_JOB_LIMITS.urlLength)
      .meta(HTTP_URL_FORMAT)
      .optional()
      .describe('`url` by another name, as timer services often call it; give one of the two'),
    runAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('when the timer is due (ISO 8601 with offset), at most a year ahead; or give a duration'),
    hours: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('due this many hours from now, plus minutes and seconds: at most a year in all'),
    minutes: z.number().int().min(0).optional(),
    seconds: z.number().int().min(0).optional(),
    payload: z
      .unknown()
      .optional()
      .describe('any JSON value, sent back as `payload` when the timer fires; null if unset'),
  })
  .strict()
  .meta({
    oneOf: [
      { required: ['runAt'] },
      { anyOf: (['hours', 'minutes', 'seconds'] as const).map((unit) => ({ required: [unit] })) },
    ],
    anyOf: [{ required: ['url'] }, { required: ['webhookUrl'] }],
    // Both are taken when they name the same URL; the document says "one of them", which it can state.
    not: { required: ['url', 'webhookUrl'] },
  })
  .superRefine((timer, ctx) => {
    if (timer.url === undefined && timer.webhookUrl === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'give the URL to call, as url (or webhookUrl)' });
    } else if (timer.url !== undefined && timer.webhookUrl !== undefined && timer.url !== timer.webhookUrl) {
      ctx.addIssue({ code: 'custom', path: ['webhookUrl'], message: 'names another URL than url: give one of them' });
    }
    const units = (Object.keys(DURATION_UNITS) as DurationUnit[]).filter((unit) => timer[unit] !== undefined);
    if (timer.runAt !== undefined && units.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['runAt'], message: 'give runAt or hours/minutes/seconds, not both' });
    } else if (timer.runAt === undefined && units.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['runAt'], message: 'give runAt or a duration (hours, minutes, seconds)' });
    } else if (durationMs(timer) > MAX_SCHEDULE_AHEAD_MS) {
      ctx.addIssue({
        code: 'too_big',
        origin: 'number',
        maximum: MAX_SCHEDULE_AHEAD_MS / 1000,
        path: [units[0]!],
        message: 'a timer may be due at most a year ahead',
      });
    }
  });
export type CreateTimerRequest = z.infer<typeof CreateTimerRequest>;

function durationMs(timer: Pick<CreateTimerRequest, DurationUnit>): number {
  return (Object.keys(DURATION_UNITS) as DurationUnit[]).reduce(
    (sum, unit) => sum + (typeof timer[unit] === 'number' ? timer[unit] * DURATION_UNITS[unit] : 0),
    0,
  );
}

/** A timer as clients see it. */
export const TimerView = z.object({
  id: z.uuid().describe('the timer’s id, which is also the id of its `http` job'),
  status: z.enum(JOB_STATUSES).describe('the status of the timer’s job'),
  runAt: z.string().describe('when the timer is due (ISO 8601, UTC)'),
  timeLeft: z
    .number()
    .int()
    .min(0)
    .describe('whole seconds until runAt, rounded up; 0 once due, and for a timer that fired or was cancelled'),
});
export type TimerView = z.infer<typeof TimerView>;

/** Where a field of the `http` job a timer becomes came from in the timer's request (`urlField`: the URL's). */
function timerField(field: string, urlField: 'url' | 'webhookUrl'): string {
  if (field === 'payload.url') return urlField;
  if (field === 'payload.body') return 'payload';
  if (field.startsWith('payload.body.payload')) return field.slice('payload.body.'.length);
  return field;
}

/**
 * Turns a `POST /v1/timers` body into the `http` job that fires it: a POST of `{id, payload}` to `url`, scheduled at
 * `runAt`, marked as a timer in its metadata. The job is checked as any job is (SSRF guard on the URL, payload bounds,
 * schedule horizon), with problems named after the timer's fields. `timerId` becomes the job's id.
 */
export function parseCreateTimer(
  body: unknown,
  limits: JobRequestLimits,
  now: Date,
  timerId: string,
): CreateJobRequest {
  const parsed = CreateTimerRequest.safeParse(body ?? {});
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', 'the timer request is invalid', {
      details: toFieldIssues(parsed.error),
    });
  }
  const timer = parsed.data;
  const runAt = new Date(timer.runAt ?? now.getTime() + durationMs(timer)).toISOString();
  let request: CreateJobRequest;
  try {
    request = parseCreateJob(
      {
        type: 'http',
        payload: {
          method: 'POST',
          url: timer.url ?? timer.webhookUrl,
          body: { id: timerId, payload: timer.payload ?? null },
        },
        runAt,
      },
      limits,
    );
  } catch (err) {
    if (!isJoblineError(err) || err.code !== 'VALIDATION_FAILED') throw err;
    throw new JoblineError('VALIDATION_FAILED', 'the timer request is invalid', {
      details: err.details.map((issue) => ({
        ...issue,
        field: timerField(issue.field, timer.url === undefined ? 'webhookUrl' : 'url'),
      })),
    });
  }
  // Added after validation: clients may not set jobline's own metadata keys.
  return { ...request, metadata: { [TIMER_METADATA_KEY]: runAt } };
}

/** The timer view of a job, or null when the job is not a timer. */
export function toTimerView(view: JobView, now: Date): TimerView | null {
  const due = view.type === 'http' ? view.metadata[TIMER_METADATA_KEY] : undefined;
  if (due === undefined) return null;
  const waiting = view.status === 'pending' || view.status === 'scheduled';
  const timeLeft = waiting ? Math.max(0, Math.ceil((Date.parse(due) - now.getTime()) / 1000)) : 0;
  return { id: view.id, status: view.status, runAt: due, timeLeft };
}
