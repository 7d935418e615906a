import { z } from 'zod';
import { envelopeSchema } from '../events/event-envelope';
import { JobRequestedData } from '../events/job-events';

/**
 * The schedule event contract published on `jobline.schedule-events`, keyed by schedule id, kept forever. Like the job
 * events, every schema is declared once here; the types and the published JSON Schemas are derived from it. Every
 * event carries the schedule's `revision` after it (absolute, 1 for its creation), so that applying one twice, or an
 * older one again, changes nothing.
 */

const timestamp = z.iso.datetime({ offset: true });

/** When a schedule fires: a cron expression (5 fields, or 6 with seconds first) read in an IANA time zone, or a fixed interval. */
export const ScheduleTrigger = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cron'), expression: z.string().min(1), timeZone: z.string().min(1) }),
  z.object({ kind: z.literal('interval'), everyMs: z.number().int().min(1000) }),
]);
export type ScheduleTrigger = z.infer<typeof ScheduleTrigger>;

/** What each fire creates: the fields of a `JobRequested`, as the producer validated and completed them. */
export const JobTemplate = JobRequestedData.omit({ runAt: true, idempotencyKey: true });
export type JobTemplate = z.infer<typeof JobTemplate>;

/**
 * Fires that came due while no runner could fire them (a restart, a rebalance, an outage): `none` drops them and keeps
 * only fires found less than the on-time grace late; `latest` fires only the latest of them; `all` fires each, up to
 * the latest `catchUpLimit`.
 */
export const CatchUpPolicy = z.enum(['none', 'latest', 'all']);
export type CatchUpPolicy = z.infer<typeof CatchUpPolicy>;

/**
 * A fire that comes due while the previous fire's job has not finished: `allow` creates its job anyway; `skip` drops
 * it; `bufferOne` keeps the first such fire and creates its job once the previous one has finished (later fires meanwhile
 * are dropped).
 */
export const OverlapPolicy = z.enum(['allow', 'skip', 'bufferOne']);
export type OverlapPolicy = z.infer<typeof OverlapPolicy>;

export const ScheduleDefinition = z.object({
  name: z.string().nullable(),
  trigger: ScheduleTrigger,
  job: JobTemplate,
  /** No fire before this instant (inclusive); for an interval, the instant its fires count from. */
  startAt: timestamp.nullable(),
  /** No fire at or after this instant. */
  endAt: timestamp.nullable(),
  catchUp: CatchUpPolicy,
  catchUpLimit: z.number().int().min(1),
  overlap: OverlapPolicy,
});
export type ScheduleDefinition = z.infer<typeof ScheduleDefinition>;

const revision = z.number().int().min(1);

export const ScheduleCreatedData = ScheduleDefinition.extend({ revision, paused: z.boolean() });
/** The whole definition after the change, not the difference: an update applied twice is applied once. */
export const ScheduleUpdatedData = ScheduleDefinition.extend({ revision });
export const SchedulePausedData = z.object({ revision });
export const ScheduleResumedData = z.object({ revision });
export const ScheduleDeletedData = z.object({ revision });

function scheduleEventSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return envelopeSchema({ scheduleId: z.uuid() }, type, data);
}

export const ScheduleCreated = scheduleEventSchema('ScheduleCreated', ScheduleCreatedData);
export const ScheduleUpdated = scheduleEventSchema('ScheduleUpdated', ScheduleUpdatedData);
export const SchedulePaused = scheduleEventSchema('SchedulePaused', SchedulePausedData);
export const ScheduleResumed = scheduleEventSchema('ScheduleResumed', ScheduleResumedData);
export const ScheduleDeleted = scheduleEventSchema('ScheduleDeleted', ScheduleDeletedData);

export const ScheduleEvent = z.discriminatedUnion('type', [
  ScheduleCreated,
  ScheduleUpdated,
  SchedulePaused,
  ScheduleResumed,
  ScheduleDeleted,
]);
export type ScheduleEvent = z.infer<typeof ScheduleEvent>;
export type ScheduleEventType = ScheduleEvent['type'];
export type ScheduleEventOf<T extends ScheduleEventType> = Extract<ScheduleEvent, { type: T }>;

export const SCHEDULE_EVENT_TYPES = ScheduleEvent.options.map((o) => o.shape.type.value) as ScheduleEventType[];
