import {
  checkpointId,
  decodePauseEvent,
  evolvePause,
  pauseScopeFromDocument,
  pauseScopeId,
  type Logger,
  type PauseCache,
  type PauseCollections,
  type PauseDocument,
  type PauseEvent,
} from '@jobline/libs';
import { MongoBulkWriteError, type AnyBulkWriteOperation } from 'mongodb';
import type { PartitionBatch, PersistResult, PoisonMessage } from './persist-batch';

export interface PausePersisterDeps {
  collections: PauseCollections;
  /** Refreshed with each changed scope, so that the producer's reads see the folded state. */
  cache?: PauseCache;
  topic: string;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
}

const DUPLICATE_KEY = 11000;

/**
 * Folds batches of `jobline.pause-events` into the `pauses` projection, with the guarantees of `persist-batch.ts`: each
 * scope's document advances with `evolvePause` past the position it holds, with a write conditional on that position,
 * and the checkpoint of each partition is saved last. Delivering a batch twice, or overlapping batches, leaves the same
 * documents. The topic itself is the history of pauses (kept forever), so no event collection is kept beside it.
 */
export function createPausePersister(deps: PausePersisterDeps) {
  const { pauses, checkpoints } = deps.collections;

  return async function persistPauseBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const events: { event: PauseEvent; partition: number; offset: number }[] = [];
    const poison: PoisonMessage[] = [];
    for (const { partition, messages } of batches) {
      for (const message of messages) {
        const decoded = decodePauseEvent(message.value);
        if (decoded.ok) events.push({ event: decoded.event, partition, offset: message.offset });
        else poison.push({ partition, offset: message.offset, value: message.value, reason: decoded.reason });
      }
    }
    if (poison.length > 0) {
      deps.logger.warn('quarantining undecodable pause events', {
        positions: poison.map((p) => `${p.partition}:${p.offset}`),
        reasons: [...new Set(poison.map((p) => p.reason))],
      });
      await deps.quarantine(poison);
    }

    const ids = [...new Set(events.map(({ event }) => pauseScopeId(event.tenantId, event.data.jobType)))];
    const current = new Map<string, PauseDocument>();
    if (ids.length > 0) {
      for (const doc of await pauses.find({ _id: { $in: ids } }).toArray()) current.set(doc._id, doc);
    }
    const changed = new Map<string, { doc: PauseDocument; previousOffset: number | null }>();
    // A tenant's events all lie in one partition (they are keyed by tenant), so each scope's are applied in log order.
    for (const { event, partition, offset } of events) {
      const id = pauseScopeId(event.tenantId, event.data.jobType);
      const existing = current.get(id);
      if (existing && existing.position.partition === partition && existing.position.offset >= offset) continue;
      const next = evolvePause(existing ? pauseScopeFromDocument(existing) : null, event);
      const doc: PauseDocument = { ...next, _id: id, position: { partition, offset } };
      const earlier = changed.get(id);
      const previousOffset = earlier ? earlier.previousOffset : (existing?.position.offset ?? null);
      current.set(id, doc);
      changed.set(id, { doc, previousOffset });
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
    return { events: events.length, duplicates: 0, poison: poison.length, jobsChanged: changed.size };
  };

  /** Conditional on the position each document had when read: a newer state written meanwhile is kept. */
  async function writeProjection(changes: { doc: PauseDocument; previousOffset: number | null }[]) {
    if (changes.length === 0) return;
    const operations: AnyBulkWriteOperation<PauseDocument>[] = changes.map(({ doc, previousOffset }) =>
      previousOffset === null
        ? { insertOne: { document: doc } }
        : { replaceOne: { filter: { _id: doc._id, 'position.offset': previousOffset }, replacement: doc } },
    );
    try {
      await pauses.bulkWrite(operations, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      deps.logger.warn('pause scopes were written concurrently by another persister; kept theirs', {
        count: errors.length,
      });
    }
  }

  /** The persister's state is folded from the log in order: at the same position it replaces the producer's. */
  async function refreshCache(changed: PauseDocument[]) {
    if (!deps.cache || changed.length === 0) return;
    try {
      await deps.cache.putNewer(
        changed.map((doc) => ({ scope: pauseScopeFromDocument(doc), position: doc.position })),
        { replaceSamePosition: true },
      );
    } catch (err) {
      // The projection is written; a stale cached scope must not hide it. Evict, so readers fall back to MongoDB.
      const tenants = [...new Set(changed.map((d) => d.tenantId))];
      await deps.cache.evict(tenants).catch(() => undefined);
      deps.logger.error('pause cache refresh failed', { tenants: tenants.length, err });
    }
  }
}
