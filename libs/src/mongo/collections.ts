import type { Collection, Db } from 'mongodb';
import type { JobEvent } from '../events/job-events';
import type { Job } from '../jobs/job';
import type { JobView } from '../jobs/job-view';

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

/**
 * The outbox of `callbackUrl` deliveries: one document per terminal status a job reached, written by the persister
 * before the projection shows that status, and worked off by the callback dispatcher.
 */
export interface CallbackDeliveryDocument {
  /**
   * The id of the event that made the job terminal (with `:email` for the mail of the same status); also sent as the
   * `Jobline-Delivery` header.
   */
  _id: string;
  jobId: string;
  tenantId: string;
  /** An http(s) `callbackUrl`, or `mailto:<address>` for `notify.email`. */
  url: string;
  /** The job view POSTed: the job as the terminal event left it. */
  view: JobView;
  status: 'pending' | 'delivering' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: Date;
  /** While `delivering`: when the attempt is presumed dead (its process crashed) and the delivery due again. */
  leaseUntil: Date | null;
  lastError: string | null;
  lastStatus: number | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export interface JoblineCollections {
  jobs: Collection<JobDocument>;
  jobEvents: Collection<JobEventDocument>;
  checkpoints: Collection<CheckpointDocument>;
  callbackDeliveries: Collection<CallbackDeliveryDocument>;
}

export function joblineCollections(db: Db): JoblineCollections {
  return {
    jobs: db.collection<JobDocument>('jobs'),
    jobEvents: db.collection<JobEventDocument>('job_events'),
    checkpoints: db.collection<CheckpointDocument>('checkpoints'),
    callbackDeliveries: db.collection<CallbackDeliveryDocument>('callback_deliveries'),
  };
}

export async function ensureIndexes(c: JoblineCollections): Promise<void> {
  // GET /v1/jobs: a tenant's jobs newest first, id breaking ties, optionally narrowed by status or type first.
  await c.jobs.createIndex({ tenantId: 1, createdAt: -1, _id: -1 });
  await c.jobs.createIndex({ tenantId: 1, status: 1, createdAt: -1, _id: -1 });
  await c.jobs.createIndex({ tenantId: 1, type: 1, createdAt: -1, _id: -1 });
  // GET /v1/stats: the jobs that finished in a window, counted from the index alone (it holds every field read).
  await c.jobs.createIndex({ tenantId: 1, finishedAt: 1, status: 1, type: 1 });
  // Bulk jobs on the dead letters: a tenant's failed jobs in the order they were dead-lettered, paged by that time and
  // id, a time range read off the index; type and error code are checked on the documents the range yields.
  await c.jobs.createIndex({ tenantId: 1, status: 1, deadLetteredAt: 1, _id: 1 });
  await c.jobEvents.createIndex({ jobId: 1, 'position.offset': 1 });
  await c.callbackDeliveries.createIndex({ status: 1, nextAttemptAt: 1 });
  await c.callbackDeliveries.createIndex({ jobId: 1 });
}

export function checkpointId(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

/** Strips the storage fields from a projection document. */
export function jobFromDocument(doc: JobDocument): Job {
  const { _id: _ignored, position: _position, ...job } = doc;
  return job;
}
