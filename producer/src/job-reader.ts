import { jobFromDocument, toJobView, type JobCache, type JobDocument, type JobView, type Logger } from '@jobline/libs';
import type { Collection } from 'mongodb';

export interface JobReader {
  /** The job's view, or null when there is no such job for this tenant. */
  find(tenantId: string, jobId: string): Promise<JobView | null>;
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
  };
}
