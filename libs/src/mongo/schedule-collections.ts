import type { Collection, Db } from 'mongodb';
import type { Schedule } from '../schedules/schedule';
import type { ScheduleEvent } from '../schedules/schedule-events';
import type { CheckpointDocument, LogPosition } from './collections';

/** The `schedules` projection: the schedule's state and the position of the last event folded into it. */
export type ScheduleDocument = Schedule & { _id: string; position: LogPosition };

/** The append-only `schedule_events` collection; `_id` is the event id. */
export type ScheduleEventDocument = {
  _id: string;
  event: ScheduleEvent;
  position: LogPosition;
  scheduleId: string;
  tenantId: string;
};

export interface ScheduleCollections {
  schedules: Collection<ScheduleDocument>;
  scheduleEvents: Collection<ScheduleEventDocument>;
  /** The same checkpoints as the job projection's, by topic and partition. */
  checkpoints: Collection<CheckpointDocument>;
}

export function scheduleCollections(db: Db): ScheduleCollections {
  return {
    schedules: db.collection<ScheduleDocument>('schedules'),
    scheduleEvents: db.collection<ScheduleEventDocument>('schedule_events'),
    checkpoints: db.collection<CheckpointDocument>('checkpoints'),
  };
}

export async function ensureScheduleIndexes(c: ScheduleCollections): Promise<void> {
  // GET /v1/schedules: a tenant's schedules in creation order (their ids are time-ordered), paged by id.
  await c.schedules.createIndex({ tenantId: 1, _id: 1 });
  await c.scheduleEvents.createIndex({ scheduleId: 1, 'position.offset': 1 });
}

export function scheduleFromDocument(doc: ScheduleDocument): Schedule {
  const { _id: _ignored, position: _position, ...schedule } = doc;
  return schedule;
}
