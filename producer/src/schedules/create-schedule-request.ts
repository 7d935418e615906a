import { z } from 'zod';
import {
  CatchUpPolicy,
  JOB_PAYLOAD_SCHEMAS,
  JOB_STATUSES,
  JOB_TYPES,
  JoblineError,
  OverlapPolicy,
  checkTrigger,
  definitionOf,
  fireTimesAfter,
  fireTimesUpTo,
  isJoblineError,
  scheduledJobId,
  type FieldIssue,
  type JobTemplate,
  type Schedule,
  type ScheduleDefinition,
  type ScheduleTrigger,
} from '@jobline/libs';
import {
  CreateJobFields,
  jobRequestedEvent,
  parseCreateJob,
  toFieldIssues,
  type JobRequestLimits,
} from '../jobs/create-job-request';

/** The longest interval: a year. */
export const MAX_INTERVAL_MS = 366 * 24 * 3_600_000;
export const MAX_CATCH_UP_LIMIT = 1000;
/** How many upcoming fire times and recent jobs a schedule's view shows. */
export const VIEW_NEXT_FIRES = 5;
export const VIEW_RECENT_JOBS = 10;

const timestamp = z.iso.datetime({ offset: true });

/**
 * The job each fire creates: a job request as `POST /v1/jobs` takes it, one variant per job type, without a start time
 * (the fire time is that). The parser checks it again as that route does (sizes, outbound addresses).
 */
const JobTemplateRequest = z
  .discriminatedUnion(
    'type',
    JOB_TYPES.map((type) => {
      const payload: z.ZodType = JOB_PAYLOAD_SCHEMAS[type];
      return CreateJobFields.omit({ runAt: true, delayMs: true }).extend({
        type: z.literal(type),
        payload: (payload.safeParse({}).success ? payload.default({}) : payload).describe(
          CreateJobFields.shape.payload.description!,
        ),
      });
    }) as unknown as [z.ZodObject, ...z.ZodObject[]],
  )
  .describe('the job each fire creates, as the body of POST /v1/jobs, without runAt or delayMs');

/** Both triggers at once, or a time zone for an interval: refused. */
const ONE_TRIGGER = {
  not: { anyOf: [{ required: ['cron', 'intervalMs'] }, { required: ['timeZone', 'intervalMs'] }] },
};

const ScheduleFields = z
  .object({
    name: z.string().min(1).max(200).nullable().describe('a name to tell schedules apart; no effect'),
    cron: z
      .string()
      .min(1)
      .max(200)
      .describe(
        'a cron expression: 5 fields, or 6 with seconds first (`*/10 * * * * *`), read in `timeZone`; a fixed time ' +
          'of day skipped by a daylight-saving change fires at the first valid time after it, one repeated fires once',
      ),
    timeZone: z.string().min(1).max(100).describe('the IANA time zone `cron` is read in; UTC unless given'),
    intervalMs: z
      .number()
      .int()
      .min(1000)
      .max(MAX_INTERVAL_MS)
      .describe('instead of `cron`: fire every so many milliseconds, counted from `startAt` (or from creation)'),
    job: JobTemplateRequest,
    startAt: timestamp.nullable().describe('no fire before this instant'),
    endAt: timestamp.nullable().describe('no fire at or after this instant'),
    paused: z.boolean().describe('a paused schedule does not fire; fires due while paused are not caught up on'),
    catchUp: CatchUpPolicy.describe(
      'what becomes of fires missed while no runner could make them (an outage): `none` drops them (a fire found at ' +
        'most 5 s late is still made), `latest` makes only the latest, `all` makes each, up to the latest ' +
        '`catchUpLimit`',
    ),
    catchUpLimit: z.number().int().min(1).max(MAX_CATCH_UP_LIMIT).describe('most missed fires `all` makes'),
    overlap: OverlapPolicy.describe(
      'what becomes of a fire while the previous fire’s job has not finished: `allow` makes it, `skip` drops it, ' +
        '`bufferOne` makes the first such fire once the previous job has finished and drops the others',
    ),
  })
  .strict();

export const CreateScheduleRequest = ScheduleFields.partial()
  .required({ job: true })
  .extend({
    catchUp: ScheduleFields.shape.catchUp.default('latest'),
    catchUpLimit: ScheduleFields.shape.catchUpLimit.default(100),
    overlap: ScheduleFields.shape.overlap.default('allow'),
    paused: ScheduleFields.shape.paused.default(false),
  })
  .strict()
  .meta({ anyOf: [{ required: ['cron'] }, { required: ['intervalMs'] }], ...ONE_TRIGGER });
export type CreateScheduleRequest = z.infer<typeof CreateScheduleRequest>;

export const UpdateScheduleRequest = ScheduleFields.partial()
  .strict()
  .meta(ONE_TRIGGER)
  .describe(
    'the fields to change; the others keep their values. `null` clears `name`, `startAt` or `endAt`; `endAt` must ' +
      'come after `startAt`, the one given or the one kept.',
  );
export type UpdateScheduleRequest = z.infer<typeof UpdateScheduleRequest>;

const invalid = (message: string, details: FieldIssue[]) => new JoblineError('VALIDATION_FAILED', message, { details });

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw invalid('the schedule request is invalid', toFieldIssues(parsed.error));
  return parsed.data;
}

/** The job template, validated exactly as `POST /v1/jobs` validates a job, its fields named under `job.`. */
function parseTemplate(body: unknown, limits: JobRequestLimits, tenantId: string, now: Date): JobTemplate {
  try {
    const request = parseCreateJob(body, limits);
    const { runAt: _runAt, idempotencyKey: _key, ...template } = jobRequestedEvent(request, tenantId, now).data;
    return template;
  } catch (err) {
    if (!isJoblineError(err)) throw err;
    throw new JoblineError(err.code, err.message, {
      details: err.details.map((d) => ({ ...d, field: d.field === '(body)' ? 'job' : `job.${d.field}` })),
    });
  }
}

function checkDefinition(definition: ScheduleDefinition, now: Date): ScheduleDefinition {
  const trigger = checkTrigger(definition.trigger, now.getTime());
  if (!trigger.ok) {
    throw invalid('the schedule’s trigger is invalid', [
      { field: trigger.field, code: 'invalid_value', message: trigger.message },
    ]);
  }
  if (definition.startAt && definition.endAt && Date.parse(definition.endAt) <= Date.parse(definition.startAt)) {
    throw invalid('the schedule ends before it starts', [
      { field: 'endAt', code: 'invalid_value', message: 'endAt must be after startAt' },
    ]);
  }
  return {
    ...definition,
    startAt: definition.startAt && new Date(definition.startAt).toISOString(),
    endAt: definition.endAt && new Date(definition.endAt).toISOString(),
  };
}

function triggerOf(
  request: { cron?: string; timeZone?: string; intervalMs?: number },
  current?: ScheduleTrigger,
): ScheduleTrigger {
  if (request.cron !== undefined && request.intervalMs !== undefined) {
    throw invalid('give cron or intervalMs, not both', [
      { field: 'intervalMs', code: 'invalid_value', message: 'give cron or intervalMs, not both' },
    ]);
  }
  if (request.intervalMs !== undefined) {
    if (request.timeZone !== undefined) {
      throw invalid('an interval has no time zone', [
        { field: 'timeZone', code: 'invalid_value', message: 'timeZone goes with cron' },
      ]);
    }
    return { kind: 'interval', everyMs: request.intervalMs };
  }
  if (request.cron !== undefined) {
    const timeZone = request.timeZone ?? (current?.kind === 'cron' ? current.timeZone : 'UTC');
    return { kind: 'cron', expression: request.cron, timeZone };
  }
  if (current?.kind === 'cron' && request.timeZone !== undefined) return { ...current, timeZone: request.timeZone };
  if (current && request.timeZone === undefined) return current;
  throw invalid('a schedule fires by cron or by intervalMs', [
    {
      field: request.timeZone !== undefined ? 'timeZone' : 'cron',
      code: 'invalid_value',
      message: request.timeZone !== undefined ? 'timeZone goes with cron' : 'give cron or intervalMs',
    },
  ]);
}

/** Validates `POST /v1/schedules`; throws VALIDATION_FAILED naming every offending field. */
export function parseCreateSchedule(
  body: unknown,
  limits: JobRequestLimits,
  tenantId: string,
  now: Date,
): { definition: ScheduleDefinition; paused: boolean } {
  const request = parseBody(CreateScheduleRequest, body);
  const definition = checkDefinition(
    {
      name: request.name ?? null,
      trigger: triggerOf(request),
      job: parseTemplate(request.job, limits, tenantId, now),
      startAt: request.startAt ?? null,
      endAt: request.endAt ?? null,
      catchUp: request.catchUp,
      catchUpLimit: request.catchUpLimit,
      overlap: request.overlap,
    },
    now,
  );
  return { definition, paused: request.paused };
}

/** Validates `PATCH /v1/schedules/{id}` against the schedule as it is; the whole definition after the change. */
export function parseUpdateSchedule(
  body: unknown,
  current: Schedule,
  limits: JobRequestLimits,
  now: Date,
): { definition: ScheduleDefinition; paused: boolean } {
  const request = parseBody(UpdateScheduleRequest, body);
  const before = definitionOf(current);
  const definition = checkDefinition(
    {
      name: request.name === undefined ? before.name : request.name,
      trigger: triggerOf(request, before.trigger),
      job: request.job === undefined ? before.job : parseTemplate(request.job, limits, current.tenantId, now),
      startAt: request.startAt === undefined ? before.startAt : request.startAt,
      endAt: request.endAt === undefined ? before.endAt : request.endAt,
      catchUp: request.catchUp ?? before.catchUp,
      catchUpLimit: request.catchUpLimit ?? before.catchUpLimit,
      overlap: request.overlap ?? before.overlap,
    },
    now,
  );
  return { definition, paused: request.paused ?? current.status === 'paused' };
}

const RecentJob = z.object({
  id: z.uuid(),
  fireAt: timestamp,
  status: z.enum(JOB_STATUSES),
});

/** A schedule as the API shows it. */
export const ScheduleView = z.object({
  id: z.uuid(),
  name: z.string().nullable(),
  status: z.enum(['active', 'paused']),
  cron: z.string().nullable(),
  timeZone: z.string().nullable(),
  intervalMs: z.number().int().nullable(),
  job: z.record(z.string(), z.unknown()).describe('the job each fire creates, with its defaults filled in'),
  startAt: timestamp.nullable(),
  endAt: timestamp.nullable(),
  catchUp: CatchUpPolicy,
  catchUpLimit: z.number().int(),
  overlap: OverlapPolicy,
  revision: z.number().int().describe('counts the schedule’s changes, 1 at creation'),
  createdAt: timestamp,
  updatedAt: timestamp,
  nextFireTimes: z.array(timestamp).describe(`the next ${VIEW_NEXT_FIRES} fire times; none while paused`),
  recentJobs: z
    .array(RecentJob)
    .describe(
      `the jobs of the latest ${VIEW_RECENT_JOBS} due fire times of the current trigger, latest first; a fire ` +
        'dropped by a policy, or not yet in the projection, has none',
    ),
});
export type ScheduleView = z.infer<typeof ScheduleView>;

/** The fire times whose jobs a view shows, latest first, with their job ids. */
export function recentFires(schedule: Schedule, now: number): { id: string; fireAt: number }[] {
  return fireTimesUpTo(schedule, Date.parse(schedule.anchorAt) - 1, now, VIEW_RECENT_JOBS)
    .reverse()
    .map((fireAt) => ({ id: scheduledJobId(schedule.id, fireAt), fireAt }));
}

export function toScheduleView(
  schedule: Schedule,
  now: number,
  recentJobs: z.infer<typeof RecentJob>[] = [],
): ScheduleView {
  const { trigger } = schedule;
  const next =
    schedule.status === 'active'
      ? fireTimesAfter(schedule, Math.max(now, Date.parse(schedule.firesFrom)), VIEW_NEXT_FIRES)
      : [];
  return {
    id: schedule.id,
    name: schedule.name,
    status: schedule.status === 'paused' ? 'paused' : 'active',
    cron: trigger.kind === 'cron' ? trigger.expression : null,
    timeZone: trigger.kind === 'cron' ? trigger.timeZone : null,
    intervalMs: trigger.kind === 'interval' ? trigger.everyMs : null,
    job: schedule.job,
    startAt: schedule.startAt,
    endAt: schedule.endAt,
    catchUp: schedule.catchUp,
    catchUpLimit: schedule.catchUpLimit,
    overlap: schedule.overlap,
    revision: schedule.revision,
    createdAt: schedule.createdAt,
    updatedAt: schedule.updatedAt,
    nextFireTimes: next.map((t) => new Date(t).toISOString()),
    recentJobs,
  };
}
