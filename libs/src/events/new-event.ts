import { newEnvelope, type EnvelopeContext } from './event-envelope';
import type { JobEventOf, JobEventType } from './job-events';

export interface EventContext extends EnvelopeContext {
  jobId: string;
}

/** Builds a complete event envelope around `data`, with a fresh event id. */
export function newEvent<T extends JobEventType>(
  type: T,
  ctx: EventContext,
  data: JobEventOf<T>['data'],
): JobEventOf<T> {
  return newEnvelope<JobEventOf<T>>(type, { jobId: ctx.jobId }, ctx, data);
}
