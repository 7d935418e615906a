import {
  DEFAULT_BACKOFF,
  jobFromDocument,
  toJobView,
  type Job,
  type JobCache,
  type JobDocument,
  type JobView,
  type Logger,
} from '@jobline/libs';
import type { Collection } from 'mongodb';

export interface JobReader {
  /** The job's view, or null when there is no such job for this tenant. */
  find(tenantId: string, jobId: string): Promise<JobView | null>;
  /**
   * The job's state for deciding a command (cancel, retry): the projection's, or, for a job accepted a moment ago and
   * not yet persisted, the state its cached view implies. Null when there is no such job for this tenant.
   */
  state(tenantId: string, jobId: string): Promise<Job | null>;
}

/** A just-accepted job known only by the view the producer cached: everything else is still its request's defaults. */
function jobFromAcceptedView(view: JobView, tenantId: string): Job {
  return {
    ...view,
    tenantId,
    payload: null,
    attemptLimit: view.maxAttempts,
    backoff: DEFAULT_BACKOFF,
    timeoutMs: null,
    callbackUrl: null,
    notify: null,
    idempotencyKey: null,
    runnerId: null,
    cancelRequestedAt: null,
    deadLetteredAt: null,
  };
}

/** Redis first; MongoDB when the cache misses or Redis is unavailable. */
export function createJobReader(deps: { cache: JobCache; jobs: Collection<JobDocument>; logger: Logger }): JobReader {
  return {
    async find(tenantId, jobId) {
      try {
        const cached = await deps.cache.get(tenantId, jobId);
        if (cached) return cached;
      } catch (err) {
        deps.logger.warn('job cache read failed; reading MongoDB', { jobId, err: (err as Error).message });
      }
      const doc = await deps.jobs.findOne({ _id: jobId, tenantId });
      return doc ? toJobView(jobFromDocument(doc)) : null;
    },
    async state(tenantId, jobId) {
      const doc = await deps.jobs.findOne({ _id: jobId, tenantId });
      if (doc) return jobFromDocument(doc);
      const cached = await deps.cache.get(tenantId, jobId).catch(() => null);
      return cached ? jobFromAcceptedView(cached, tenantId) : null;
    },
  };
}
