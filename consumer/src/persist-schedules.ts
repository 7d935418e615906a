import {
  checkpointId,
  decodeScheduleEvent,
  evolveSchedule,
  scheduleFromDocument,
  type Logger,
  type ScheduleCache,
  type ScheduleCollections,
  type ScheduleDocument,
  type ScheduleEvent,
} from '@jobline/libs';
import { MongoBulkWriteError, type AnyBulkWriteOperation } from 'mongodb';
import { insertIgnoringDuplicates, type PartitionBatch, type PersistResult, type PoisonMessage } from './persist-batch';

export interface SchedulePersisterDeps {
  collections: ScheduleCollections;
  /** Refreshed with each changed schedule, so that the producer's reads see the folded state. */
  cache?: ScheduleCache;
  topic: string;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
}

const DUPLICATE_KEY = 11000;

/**
 * Folds batches of `jobline.schedule-events` into MongoDB, as `persist-batch.ts` folds the job events and with the same
 * guarantees: each event is appended to `schedule_events` under its event id, each schedule's projection advances with
 * `evolveSchedule` past the position it holds, with a write conditional on that position, and the checkpoint of each
 * partition is saved last. Delivering a batch twice, or overlapping batches, leaves the same documents.
 */
export function createSchedulePersister(deps: SchedulePersisterDeps) {
  const { schedules, scheduleEvents, checkpoints } = deps.collections;

  return async function persistScheduleBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const events: { event: ScheduleEvent; partition: number; offset: number }[] = [];
    const poison: PoisonMessage[] = [];
    for (const { partition, messages } of batches) {
      for (const message of messages) {
        const decoded = decodeScheduleEvent(message.value);
        if (decoded.ok) events.push({ event: decoded.event, partition, offset: message.offset });
        else poison.push({ partition, offset: message.offset, value: message.value, reason: decoded.reason });
      }
    }
    if (poison.length > 0) {
      deps.logger.warn('quarantining undecodable schedule events', {
        positions: poison.map((p) => `${p.partition}:${p.offset}`),
        reasons: [...new Set(poison.map((p) => p.reason))],
      });
      await deps.quarantine(poison);
    }
    const duplicates = await insertIgnoringDuplicates(
      scheduleEvents,
      events.map(({ event, partition, offset }) => ({
        _id: event.eventId,
        event,
        scheduleId: event.scheduleId,
        tenantId: event.tenantId,
        position: { partition, offset },
      })),
    );

    const ids = [...new Set(events.map((e) => e.event.scheduleId))];
    const current = new Map<string, ScheduleDocument>();
    if (ids.length > 0) {
      for (const doc of await schedules.find({ _id: { $in: ids } }).toArray()) current.set(doc._id, doc);
    }
    const changed = new Map<string, { doc: ScheduleDocument; previousOffset: number | null }>();
    // A schedule's events all lie in one partition, so each schedule's events are applied in log order.
    for (const { event, partition, offset } of events) {
      const existing = current.get(event.scheduleId);
      if (existing && existing.position.partition === partition && existing.position.offset >= offset) continue;
      const next = evolveSchedule(existing ? scheduleFromDocument(existing) : null, event);
      if (!next) {
        deps.logger.warn('event for an unknown schedule; ignoring', { scheduleId: event.scheduleId, offset });
        continue;
      }
      const doc: ScheduleDocument = { ...next, _id: next.id, position: { partition, offset } };
      const earlier = changed.get(next.id);
      const previousOffset = earlier ? earlier.previousOffset : (existing?.position.offset ?? null);
      current.set(next.id, doc);
      changed.set(next.id, { doc, previousOffset });
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
    await refreshCache([...changed.values()].map((c) => scheduleFromDocument(c.doc)));
    return { events: events.length, duplicates, poison: poison.length, jobsChanged: changed.size };
  };

  /** Conditional on the position each document had when read: a newer state written meanwhile is kept. */
  async function writeProjection(changes: { doc: ScheduleDocument; previousOffset: number | null }[]) {
    if (changes.length === 0) return;
    const operations: AnyBulkWriteOperation<ScheduleDocument>[] = changes.map(({ doc, previousOffset }) =>
      previousOffset === null
        ? { insertOne: { document: doc } }
        : { replaceOne: { filter: { _id: doc._id, 'position.offset': previousOffset }, replacement: doc } },
    );
    try {
      await schedules.bulkWrite(operations, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      deps.logger.warn('schedules were created concurrently by another persister; kept theirs', {
        count: errors.length,
      });
    }
  }

  async function refreshCache(changed: ReturnType<typeof scheduleFromDocument>[]) {
    if (!deps.cache || changed.length === 0) return;
    try {
      await deps.cache.putNewer(changed);
    } catch (err) {
      // The projection is written; a stale cached schedule must not hide it. Evict, so readers fall back to MongoDB.
      const ids = changed.map((s) => s.id);
      await deps.cache.evict(ids).catch(() => undefined);
      deps.logger.error('schedule cache refresh failed', { schedules: ids.length, err });
    }
  }
}
