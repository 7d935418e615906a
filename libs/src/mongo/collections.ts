import type { Collection, Db } from 'mongodb';
import type { JobEvent } from '../events/job-events';
import type { Job } from '../jobs/job';

/** Where an event sits in the log. A job's events all live in one partition, so the offset orders them. */
export interface LogPosition {
  partition: number;
  offset: number;
}

/** The `jobs` projection: the job's state and the position of the last event folded into it. */
export type JobDocument = Job & { _id: string; position: LogPosition };

/** The append-only `job_events` collection; `_id` is the event id, which makes duplicates impossible. */
export type JobEventDocument = { _id: string; event: JobEvent; position: LogPosition; jobId: string; tenantId: string };

/** The persister's checkpoint: the next offset to read, per topic partition. */
export interface CheckpointDocument {
  _id: string;
  topic: string;
  partition: number;
  nextOffset: number;
  updatedAt: Date;
}

export interface JoblineCollections {
  jobs: Collection<JobDocument>;
  jobEvents: Collection<JobEventDocument>;
  checkpoints: Collection<CheckpointDocument>;
}

export function joblineCollections(db: Db): JoblineCollections {
  return {
    jobs: db.collection<JobDocument>('jobs'),
    jobEvents: db.collection<JobEventDocument>('job_events'),
    checkpoints: db.collection<CheckpointDocument>('checkpoints'),
  };
}

export async function ensureIndexes(c: JoblineCollections): Promise<void> {
  // GET /v1/jobs: a tenant's jobs newest first, id breaking ties, optionally narrowed by status or type first.
  await c.jobs.createIndex({ tenantId: 1, createdAt: -1, _id: -1 });
  await c.jobs.createIndex({ tenantId: 1, status: 1, createdAt: -1, _id: -1 });
  await c.jobs.createIndex({ tenantId: 1, type: 1, createdAt: -1, _id: -1 });
  await c.jobEvents.createIndex({ jobId: 1, 'position.offset': 1 });
}

export function checkpointId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** Strips the storage fields from a projection document. */
export function jobFromDocument(doc: JobDocument): Job {
  const { _id: _ignored, position: _position, ...job } = doc;
  return job;
}
