import {
  DEFAULT_BACKOFF,
  evolve,
  jobFromDocument,
  toJobView,
  type Job,
  type JobCache,
  type JobChange,
  type JobDocument,
  type JobEvent,
  type JobEventDocument,
  type JobView,
  type Logger,
} from '@jobline/libs';
import type { Collection, Filter } from 'mongodb';
import type { ListJobsQuery, ListPosition } from './list-jobs-query';

export interface JobPage {
  items: JobView[];
  /** The sort key of the last item when more jobs may follow; null on the last page. */
  next: ListPosition | null;
}

export interface JobReader {
  /** The job's view, or null when there is no such job for this tenant. */
  find(tenantId: string, jobId: string): Promise<JobView | null>;
  /**
   * The job's state for deciding a command (cancel, retry): the projection's, or, for a job accepted a moment ago and
   * not yet persisted, the state its cached view implies. Null when there is no such job for this tenant.
   */
  state(tenantId: string, jobId: string): Promise<Job | null>;
  /** One page of the tenant's jobs in the projection, newest first (createdAt desc, then id desc). */
  list(tenantId: string, query: ListJobsQuery): Promise<JobPage>;
  /**
   * The job's stored events in log order. Empty for a job accepted a moment ago whose events are not persisted yet;
   * null when there is no such job for this tenant.
   */
  history(tenantId: string, jobId: string): Promise<JobEvent[] | null>;
  /**
   * The job's view after each of its stored events, in log order, each with the event's position: what a job stream
   * replays. Empty for a job accepted a moment ago whose events are not persisted yet; null when there is no such job
   * for this tenant.
   */
  changes(tenantId: string, jobId: string): Promise<JobChange[] | null>;
}

/** The projection filter of a list query; `after` continues strictly past a page's last sort key. */
function listFilter(tenantId: string, query: ListJobsQuery): Filter<JobDocument> {
  const filter: Record<string, unknown> = { tenantId };
  if (query.statuses) filter.status = { $in: query.statuses };
  if (query.type !== null) filter.type = query.type;
  else if (query.types) filter.type = { $in: [...query.types] };
  const createdAt: Record<string, string> = {};
  if (query.createdAfter !== null) createdAt.$gte = query.createdAfter;
  if (query.createdBefore !== null) createdAt.$lt = query.createdBefore;
  if (Object.keys(createdAt).length > 0) filter.createdAt = createdAt;
  for (const [key, value] of Object.entries(query.metadata)) filter[`metadata.${key}`] = value;
  if (query.after) {
    // createdAt is an ISO instant in UTC with milliseconds, so string order is time order.
    filter.$or = [
      { createdAt: { $lt: query.after.createdAt } },
      { createdAt: query.after.createdAt, _id: { $lt: query.after.id } },
    ];
  }
  return filter as Filter<JobDocument>;
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
export function createJobReader(deps: {
  cache: JobCache;
  jobs: Collection<JobDocument>;
  jobEvents: Collection<JobEventDocument>;
  logger: Logger;
}): JobReader {
  // A job's events all sit in one partition, so their offsets are its log order.
  const storedEvents = (tenantId: string, jobId: string) =>
    deps.jobEvents.find({ jobId, tenantId }).sort({ 'position.offset': 1 }).toArray();

  const reader: JobReader = {
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
    async list(tenantId, query) {
      // One more than the page, to know whether another page follows without a second query.
      const docs = await deps.jobs
        .find(listFilter(tenantId, query))
        .sort({ createdAt: -1, _id: -1 })
        .limit(query.limit + 1)
        .toArray();
      const page = docs.slice(0, query.limit);
      const last = page.at(-1);
      return {
        items: page.map((doc) => toJobView(jobFromDocument(doc))),
        next: docs.length > query.limit && last ? { createdAt: last.createdAt, id: last._id } : null,
      };
    },
    async history(tenantId, jobId) {
      const docs = await storedEvents(tenantId, jobId);
      if (docs.length > 0) return docs.map((doc) => doc.event);
      return (await reader.find(tenantId, jobId)) ? [] : null;
    },
    async changes(tenantId, jobId) {
      const docs = await storedEvents(tenantId, jobId);
      if (docs.length === 0) return (await reader.find(tenantId, jobId)) ? [] : null;
      const changes: JobChange[] = [];
      let job: Job | null = null;
      for (const { event, position } of docs) {
        job = evolve(job, event);
        if (job)
          changes.push({ tenantId, partition: position.partition, offset: position.offset, view: toJobView(job) });
      }
      return changes;
    },
  };
  return reader;
}
