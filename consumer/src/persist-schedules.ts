import {
  decodeScheduleEvent,
  evolveSchedule,
  scheduleFromDocument,
  type Logger,
  type Schedule,
  type ScheduleCache,
  type ScheduleCollections,
  type ScheduleEvent,
  type ScheduleEventDocument,
} from '@jobline/libs';
import {
  createProjectionFold,
  type PartitionBatch,
  type PersistResult,
  type PoisonMessage,
  type Projection,
} from './fold-projection';

export interface SchedulePersisterDeps {
  collections: ScheduleCollections;
  /** Refreshed with each changed schedule, so that the producer's reads see the folded state. */
  cache?: ScheduleCache;
  topic: string;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
}

/** The `schedules` projection: one document per schedule, folded with `evolveSchedule`. */
export const scheduleProjection: Projection<ScheduleEvent, Schedule> = {
  noun: 'schedule',
  decode: decodeScheduleEvent,
  keyOf: (event) => event.scheduleId,
  evolve: evolveSchedule,
  fromDocument: scheduleFromDocument,
};

/**
 * Folds batches of `jobline.schedule-events` into MongoDB with the fold every projection shares
 * (`createProjectionFold`), as `persist-batch.ts` folds the job events and with the same guarantees: each event is
 * appended to `schedule_events` under its event id, each schedule's projection advances with `evolveSchedule` past the
 * position it holds, with a write conditional on that position, and the checkpoint of each partition is saved last.
 * Delivering a batch twice, or overlapping batches, leaves the same documents.
 */
export function createSchedulePersister(deps: SchedulePersisterDeps) {
  const fold = createProjectionFold<ScheduleEvent, Schedule, ScheduleEventDocument>({
    projection: scheduleProjection,
    topic: deps.topic,
    documents: deps.collections.schedules,
    eventLog: {
      collection: deps.collections.scheduleEvents,
      toDocument: (event, position) => ({
        _id: event.eventId,
        event,
        scheduleId: event.scheduleId,
        tenantId: event.tenantId,
        position,
      }),
    },
    checkpoints: deps.collections.checkpoints,
    logger: deps.logger,
    quarantine: deps.quarantine,
  });

  return async function persistScheduleBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const { applied: _applied, changed, ...result } = await fold(batches);
    await refreshCache(changed.map(scheduleFromDocument));
    return result;
  };

  async function refreshCache(changed: Schedule[]) {
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
