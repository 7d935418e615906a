import {
  decodeEvent,
  evolve,
  isTerminal,
  jobFromDocument,
  toJobView,
  type CallbackDeliveryDocument,
  type Job,
  type JobCache,
  type JobChange,
  type JobDocument,
  type JobEvent,
  type JobEventDocument,
  type JobView,
  type JoblineCollections,
  type Logger,
} from '@jobline/libs';
import {
  createProjectionFold,
  insertIgnoringDuplicates,
  type AppliedEvent,
  type PersistResult,
  type PartitionBatch,
  type PoisonMessage,
  type Projection,
} from './fold-projection';

export type { LogMessage, PartitionBatch, PersistResult, PoisonMessage } from './fold-projection';

/** The `jobs` projection: one document per job, folded with the job state machine's `evolve`. */
export const jobProjection: Projection<JobEvent, Job> = {
  noun: 'job',
  decode: decodeEvent,
  keyOf: (event) => event.jobId,
  evolve,
  fromDocument: jobFromDocument,
};

export interface BatchPersisterDeps {
  collections: JoblineCollections;
  cache: JobCache;
  topic: string;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
  /** Announces each applied event's resulting view to live streams (best effort: streams catch up from MongoDB). */
  publishChanges?: (changes: JobChange[]) => Promise<void>;
  /**
   * Records deliveries in the callback outbox for each terminal status of a job: to its `callbackUrl`, and to its
   * `notify.email` as a `mailto:` URL.
   */
  scheduleCallbacks?: boolean;
  /** Told how many callback deliveries a batch added, so that the dispatcher need not wait for its next poll. */
  callbacksScheduled?: (count: number) => void;
}

/**
 * Folds batches of the event log, of any number of partitions, into MongoDB in one round trip per step, idempotently,
 * with the fold every projection shares (`createProjectionFold`):
 * 1. every event is appended to `job_events` under its event id (a duplicate is ignored);
 * 2. each job's projection is advanced with `evolve`, skipping events at or before the position it already holds;
 * 3. the checkpoint (next offset) of each partition is saved;
 * 4. the Redis cache is refreshed with views versioned by log offset, so an older view never replaces a newer one;
 * 5. the view after each applied event is announced to live streams, in log order.
 * Callback deliveries for jobs that became terminal are added to their outbox before the projection is written: a
 * redelivered batch skips events the projection already holds, so what depends on them must be stored first.
 * Delivering the same batch twice, or any overlap of batches, leaves the same documents.
 */
export function createBatchPersister(deps: BatchPersisterDeps) {
  const fold = createProjectionFold<JobEvent, Job, JobEventDocument>({
    projection: jobProjection,
    topic: deps.topic,
    documents: deps.collections.jobs,
    eventLog: {
      collection: deps.collections.jobEvents,
      toDocument: (event, position) => ({
        _id: event.eventId,
        event,
        jobId: event.jobId,
        tenantId: event.tenantId,
        position,
      }),
    },
    checkpoints: deps.collections.checkpoints,
    logger: deps.logger,
    quarantine: deps.quarantine,
  });

  return async function persistBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const { applied, changed, ...result } = await fold(batches, scheduleCallbacks);
    await refreshCache(changed);
    if (deps.publishChanges) {
      await announce(
        applied.map(({ position, after }) => ({ tenantId: after.tenantId, ...position, view: toJobView(after) })),
      );
    }
    return result;
  };

  /** Stored before the projection is written: a redelivered batch skips the events that made a job terminal. */
  async function scheduleCallbacks(applied: AppliedEvent<JobEvent, Job>[]) {
    if (!deps.scheduleCallbacks) return;
    const callbacks: CallbackDeliveryDocument[] = [];
    for (const { event, before, after } of applied) {
      if (!isTerminal(after.status) || (before && isTerminal(before.status))) continue;
      const view = toJobView(after);
      if (after.callbackUrl) callbacks.push(callbackDelivery(event.eventId, event, after.callbackUrl, view));
      if (after.notify) {
        callbacks.push(callbackDelivery(`${event.eventId}:email`, event, `mailto:${after.notify.email}`, view));
      }
    }
    if (callbacks.length === 0) return;
    await insertIgnoringDuplicates(deps.collections.callbackDeliveries, callbacks);
    deps.callbacksScheduled?.(callbacks.length);
  }

  async function announce(changes: JobChange[]) {
    if (changes.length === 0 || !deps.publishChanges) return;
    try {
      await deps.publishChanges(changes);
    } catch (err) {
      deps.logger.warn('job changes not announced; streams will catch up from MongoDB', {
        changes: changes.length,
        err: (err as Error).message,
      });
    }
  }

  async function refreshCache(docs: JobDocument[]) {
    if (docs.length === 0) return;
    try {
      await deps.cache.putNewer(
        docs.map((doc) => ({
          tenantId: doc.tenantId,
          view: toJobView(jobFromDocument(doc)),
          version: doc.position.offset,
        })),
      );
    } catch (err) {
      // The projection is written; a stale cached view must not hide it. Evict, so readers fall back to MongoDB.
      const jobIds = docs.map((d) => d._id);
      const evicted = await deps.cache.evict(jobIds).then(
        () => true,
        () => false,
      );
      deps.logger.error('job cache refresh failed', { jobs: jobIds.length, evicted, err: (err as Error).message });
    }
  }
}

function callbackDelivery(id: string, event: JobEvent, url: string, view: JobView): CallbackDeliveryDocument {
  const at = new Date(event.occurredAt);
  return {
    _id: id,
    jobId: event.jobId,
    tenantId: event.tenantId,
    url,
    view,
    status: 'pending',
    attempts: 0,
    nextAttemptAt: at,
    leaseUntil: null,
    lastError: null,
    lastStatus: null,
    createdAt: at,
    deliveredAt: null,
  };
}

export type BatchPersister = ReturnType<typeof createBatchPersister>;
