import { timeOrderedId } from './time-ordered-id';
import { EVENT_SCHEMA_VERSION, type EventSource, type JobEventOf, type JobEventType } from './job-events';

export interface EventContext {
  jobId: string;
  tenantId: string;
  source: EventSource;
  /** The moment the event happened; passed in so that callers own the clock. */
  now: Date;
}

/** Builds a complete event envelope around `data`, with a fresh event id. */
export function newEvent<T extends JobEventType>(
  type: T,
  ctx: EventContext,
  data: JobEventOf<T>['data'],
): JobEventOf<T> {
  return {
    eventId: timeOrderedId(ctx.now),
    jobId: ctx.jobId,
    tenantId: ctx.tenantId,
    type,
    schemaVersion: EVENT_SCHEMA_VERSION,
    occurredAt: ctx.now.toISOString(),
    source: ctx.source,
    data,
  } as JobEventOf<T>;
}
