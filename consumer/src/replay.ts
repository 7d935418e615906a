import type { Admin, Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import { ensureIndexes, joblineCollections, JoblineError, type JobCache, type Logger } from '@jobline/libs';
import { createBatchPersister } from './persist-batch';
import { readEventLog, type HighWaterMarks } from './read-event-log';

export type { HighWaterMarks } from './read-event-log';

export interface ReplayProgress {
  /** Messages folded so far, undecodable ones included. */
  done: number;
  /** Messages below the high-water marks. */
  total: number;
  elapsedMs: number;
}

export interface ReplayOptions {
  kafka: Kafka;
  admin: Admin;
  /** The event topic. */
  topic: string;
  /** The database to rebuild. It must hold no jobs and no events, unless `force`. */
  target: Db;
  /** Empties `target` first instead of refusing a database that is not fresh. @defaultValue false */
  force?: boolean;
  logger: Logger;
  onProgress?: (progress: ReplayProgress) => void;
  /** Milliseconds from an arbitrary origin, for the timings. @defaultValue `performance.now` */
  clock?: () => number;
}

export interface ReplayResult {
  /** Events folded into the target. */
  events: number;
  /** Messages that could not be decoded: counted, never written to the quarantine topic. */
  undecodable: number;
  /** Jobs in the rebuilt projection. */
  jobs: number;
  highWaterMarks: HighWaterMarks;
  seconds: number;
}

/** A replay refreshes no cache: the views it folds are those of a database nobody reads yet. */
const noCache: JobCache = {
  putIfAbsent: async () => undefined,
  putNewer: async () => undefined,
  evict: async () => undefined,
  get: async () => null,
};

/**
 * Folds the event topic, from the beginning up to the high-water marks taken at start (`readEventLog`), into a fresh
 * database with the persister's own batch code (`createBatchPersister`), so the rebuilt `jobs` can be held against the
 * live projection.
 */
export async function replayEventLog(options: ReplayOptions): Promise<ReplayResult> {
  const { kafka, admin, topic, target, logger } = options;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const collections = joblineCollections(target);
  if (!(await admin.listTopics()).includes(topic)) {
    throw new JoblineError('VALIDATION_FAILED', `nothing to replay: the topic ${topic} does not exist`);
  }
  await prepareTarget(target, options.force ?? false);
  await ensureIndexes(collections);

  let done = 0;
  let total = 0;
  let events = 0;
  let undecodable = 0;
  const persistBatch = createBatchPersister({
    collections,
    cache: noCache,
    topic,
    logger,
    quarantine: async (messages) => {
      undecodable += messages.length;
    },
  });
  const highWaterMarks = await readEventLog({
    kafka,
    admin,
    topic,
    logger,
    purpose: 'replay',
    onStart: (_marks, messages) => (total = messages),
    onMessages: async (partition, messages) => {
      const result = await persistBatch([{ partition, messages }]);
      events += result.events;
      done += messages.length;
      options.onProgress?.({ done, total, elapsedMs: clock() - started });
    },
  });

  return {
    events,
    undecodable,
    jobs: await collections.jobs.countDocuments(),
    highWaterMarks,
    seconds: (clock() - started) / 1000,
  };
}

/** A replay into documents that already hold positions would skip events and prove nothing. */
async function prepareTarget(target: Db, force: boolean) {
  const { jobs, jobEvents, checkpoints } = joblineCollections(target);
  if (force) {
    // Emptied, not dropped: the local stack's MongoDB-compatible server, dropping a database, also wipes every database
    // whose name begins with that one's (dropping a target `jobline` would wipe a live `jobline_eu`).
    await Promise.all([jobs.deleteMany({}), jobEvents.deleteMany({}), checkpoints.deleteMany({})]);
    return;
  }
  const [jobCount, eventCount] = await Promise.all([jobs.estimatedDocumentCount(), jobEvents.estimatedDocumentCount()]);
  if (jobCount === 0 && eventCount === 0) return;
  throw new JoblineError(
    'VALIDATION_FAILED',
    `the database ${target.databaseName} is not fresh (${jobCount} jobs, ${eventCount} events): ` +
      'replay into another one, or pass --force to empty it first',
    { details: [{ field: 'into', message: 'database is not empty', code: 'target_not_empty' }] },
  );
}
