import {
  checkpointId,
  decodeEvent,
  evolve,
  isTerminal,
  jobFromDocument,
  toJobView,
  type CallbackDeliveryDocument,
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
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Collection,
  type OptionalUnlessRequiredId,
} from 'mongodb';

export interface LogMessage {
  offset: number;
  value: Buffer | null;
}

/** Messages of one partition of the event log, in log order. */
export interface PartitionBatch {
  partition: number;
  messages: readonly LogMessage[];
}

export interface PoisonMessage {
  partition: number;
  offset: number;
  value: Buffer | null;
  reason: string;
}

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

export interface PersistResult {
  events: number;
  duplicates: number;
  poison: number;
  jobsChanged: number;
}

const DUPLICATE_KEY = 11000;

/**
 * Folds batches of the event log, of any number of partitions, into MongoDB in one round trip per step, idempotently:
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
  const { jobs, jobEvents, checkpoints } = deps.collections;

  return async function persistBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const events: { event: JobEvent; partition: number; offset: number }[] = [];
    const poison: PoisonMessage[] = [];
    for (const { partition, messages } of batches) {
      for (const message of messages) {
        const decoded = decodeEvent(message.value);
        if (decoded.ok) events.push({ event: decoded.event, partition, offset: message.offset });
        else poison.push({ partition, offset: message.offset, value: message.value, reason: decoded.reason });
      }
    }
    if (poison.length > 0) {
      deps.logger.warn('quarantining undecodable events', {
        positions: poison.map((p) => `${p.partition}:${p.offset}`),
        reasons: [...new Set(poison.map((p) => p.reason))],
      });
      await deps.quarantine(poison);
    }

    const duplicates = await appendEvents(
      events.map(({ event, partition, offset }) => ({
        _id: event.eventId,
        event,
        jobId: event.jobId,
        tenantId: event.tenantId,
        position: { partition, offset },
      })),
    );

    const jobIds = [...new Set(events.map((e) => e.event.jobId))];
    const current = new Map<string, JobDocument>();
    if (jobIds.length > 0) {
      for (const doc of await jobs.find({ _id: { $in: jobIds } }).toArray()) current.set(doc._id, doc);
    }
    const changed = new Map<string, { doc: JobDocument; previousOffset: number | null }>();
    const announced: JobChange[] = [];
    const callbacks: CallbackDeliveryDocument[] = [];
    // A job's events all lie in one partition, so each job's events are applied in log order.
    for (const { event, partition, offset } of events) {
      const existing = current.get(event.jobId);
      if (existing && existing.position.partition === partition && existing.position.offset >= offset) continue;
      const next = evolve(existing ? jobFromDocument(existing) : null, event);
      if (!next) {
        deps.logger.warn('event for an unknown job; ignoring', { jobId: event.jobId, type: event.type, offset });
        continue;
      }
      const doc: JobDocument = { ...next, _id: next.id, position: { partition, offset } };
      // The write is conditional on the position the job had in MongoDB before this batch (null: not there yet).
      const earlier = changed.get(event.jobId);
      const previousOffset = earlier ? earlier.previousOffset : (existing?.position.offset ?? null);
      current.set(event.jobId, doc);
      changed.set(event.jobId, { doc, previousOffset });
      const view = toJobView(next);
      announced.push({ tenantId: next.tenantId, partition, offset, view });
      const before = existing ? jobFromDocument(existing) : null;
      if (isTerminal(next.status) && !(before && isTerminal(before.status))) {
        if (next.callbackUrl) callbacks.push(callbackDelivery(event.eventId, event, next.callbackUrl, view));
        if (next.notify) {
          callbacks.push(callbackDelivery(`${event.eventId}:email`, event, `mailto:${next.notify.email}`, view));
        }
      }
    }
    if (deps.scheduleCallbacks && callbacks.length > 0) {
      await insertIgnoringDuplicates(deps.collections.callbackDeliveries, callbacks);
      deps.callbacksScheduled?.(callbacks.length);
    }
    await writeProjection([...changed.values()]);

    const saved = batches.filter((b) => b.messages.length > 0);
    if (saved.length > 0) {
      const updatedAt = new Date();
      await checkpoints.bulkWrite(
        saved.map(({ partition, messages }) => ({
          updateOne: {
            filter: { _id: checkpointId(deps.topic, partition) },
            update: { $set: { topic: deps.topic, partition, nextOffset: messages.at(-1)!.offset + 1, updatedAt } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    }
    await refreshCache([...changed.values()].map((c) => c.doc));
    await announce(announced);
    return { events: events.length, duplicates, poison: poison.length, jobsChanged: changed.size };
  };

  function appendEvents(docs: JobEventDocument[]): Promise<number> {
    return insertIgnoringDuplicates(jobEvents, docs);
  }

  /**
   * Writes are conditional on the position the document had when read, so that if another persister instance
   * advanced the job in the meantime (a rebalance hand-over), its newer state is kept.
   */
  async function writeProjection(changes: { doc: JobDocument; previousOffset: number | null }[]) {
    if (changes.length === 0) return;
    const operations: AnyBulkWriteOperation<JobDocument>[] = changes.map(({ doc, previousOffset }) =>
      previousOffset === null
        ? { insertOne: { document: doc } }
        : {
            replaceOne: {
              filter: { _id: doc._id, 'position.offset': previousOffset },
              replacement: doc,
            },
          },
    );
    try {
      await jobs.bulkWrite(operations, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      deps.logger.warn('jobs were created concurrently by another persister; kept theirs', { count: errors.length });
    }
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

/** Inserts documents keyed by a natural id; those already there are left as they are. Returns how many were. */
export async function insertIgnoringDuplicates<T extends { _id: string }>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    await collection.insertMany(docs, { ordered: false });
    return 0;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
    return errors.length;
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
