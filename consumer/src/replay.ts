import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import { ensureIndexes, joblineCollections, JoblineError, type JobCache, type Logger } from '@jobline/libs';
import { createBatchPersister } from './persist-batch';

/** Per partition, the offset after the last replayed message: the topic's high-water marks when the replay began. */
export type HighWaterMarks = ReadonlyMap<number, number>;

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
 * Folds the event topic, from the beginning up to the high-water marks taken at start, into a fresh database with the
 * persister's own batch code (`createBatchPersister`), so the rebuilt `jobs` can be held against the live projection.
 * Stopping at the marks makes a replay of a live log terminate. It reads under a group id of its own and commits
 * nothing, so the live groups never see it; the group is deleted at the end.
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

  const offsets = await admin.fetchTopicOffsets(topic);
  const highWaterMarks = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const unfinished = new Set(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition));
  const total = offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);

  let done = 0;
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

  if (unfinished.size > 0) {
    const groupId = `jobline-replay-${randomUUID()}`;
    const consumer = kafka.consumer({
      groupId,
      maxBytesPerPartition: 4 * 1024 * 1024,
      // A failed batch fails the replay; restarting would fold the log a second time behind the counters' back.
      retry: { retries: 3, restartOnFailure: async () => false },
    });
    let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
    const finished = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    consumer.on(consumer.events.CRASH, (e) => settle?.reject(e.payload.error));
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: offsets.length,
        eachBatch: async ({ batch, heartbeat }) => {
          const partition = batch.partition;
          if (!unfinished.has(partition)) return;
          const end = highWaterMarks.get(partition) ?? 0;
          const messages = batch.messages
            .map((m) => ({ offset: Number(m.offset), value: m.value }))
            .filter((m) => m.offset < end);
          if (messages.length > 0) {
            const result = await persistBatch([{ partition, messages }]);
            events += result.events;
            done += messages.length;
            options.onProgress?.({ done, total, elapsedMs: clock() - started });
          }
          // lastOffset counts records the client filters out (control records), so the end is found even behind them.
          if (Number(batch.lastOffset()) >= end - 1) {
            unfinished.delete(partition);
            consumer.pause([{ topic, partitions: [partition] }]);
            if (unfinished.size === 0) settle?.resolve();
          }
          await heartbeat();
        },
      });
      await finished;
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch((err: Error) => {
        logger.debug('could not delete the replay group', { groupId, err: err.message });
      });
    }
  }

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
