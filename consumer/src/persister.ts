import type { Admin, Consumer, Kafka } from 'kafkajs';
import { checkpointId, groupTimeouts, type JoblineCollections, type Logger } from '@jobline/libs';
import type { BatchPersister } from './persist-batch';
import type { PersisterMetrics } from './persister-metrics';

export interface PersisterOptions {
  kafka: Kafka;
  admin: Admin;
  groupId: string;
  /** Kafka group session timeout: how soon a crashed member's partitions move on. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  topic: string;
  collections: JoblineCollections;
  persistBatch: BatchPersister;
  logger: Logger;
  metrics?: PersisterMetrics;
}

export interface Persister {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The partitions of the event topic this member holds since its last join. */
  readonly assigned: readonly number[];
}

/**
 * The persister's consumer loop. Its checkpoint lives in MongoDB beside the projection, and MongoDB, not the group's
 * committed offset, decides where a partition resumes: before the first batch of a newly assigned partition it reads
 * the checkpoint and, if the batch starts elsewhere, seeks there. A wiped database therefore has no checkpoint and
 * rebuilds itself from the beginning of the log. On assignment each partition is also sought to its checkpoint straight
 * away. The committed offset is kept too, for lag monitoring.
 */
export function createPersister(options: PersisterOptions): Persister {
  const { kafka, admin, topic, collections, persistBatch, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  /** Next offset to persist per partition, known since the last (re)assignment. */
  const expected = new Map<number, number>();
  let assigned: readonly number[] = [];

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    expected.clear();
    const partitions = e.payload.memberAssignment[topic] ?? [];
    assigned = partitions;
    logger.info('joined persister group', { partitions });
    // Resume each assigned partition at its checkpoint now, not only when a batch arrives: after a wiped database
    // the log may be quiet, and the rebuild must start anyway.
    for (const partition of partitions) {
      resumeOffset(partition).then(
        (next) => {
          if (expected.has(partition)) return;
          expected.set(partition, next);
          consumer.seek({ topic, partition, offset: String(next) });
        },
        (err: Error) => logger.error('could not read the checkpoint', { partition, err: err.message }),
      );
    }
  });

  async function resumeOffset(partition: number): Promise<number> {
    const checkpoint = await collections.checkpoints.findOne({ _id: checkpointId(topic, partition) });
    if (checkpoint) return checkpoint.nextOffset;
    const offsets = await admin.fetchTopicOffsets(topic);
    const low = offsets.find((o) => o.partition === partition)?.low ?? '0';
    return Number(low);
  }

  return {
    get assigned() {
      return assigned;
    },
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 3,
        eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isStale }) => {
          const partition = batch.partition;
          let next = expected.get(partition);
          if (next === undefined) {
            next = await resumeOffset(partition);
            expected.set(partition, next);
          }
          const first = Number(batch.firstOffset() ?? next);
          if (first > next) {
            logger.info('seeking to the checkpoint', { partition, from: first, to: next });
            consumer.seek({ topic, partition, offset: String(next) });
            return;
          }
          if (isStale()) return;
          const fresh = batch.messages
            .map((m) => ({ offset: Number(m.offset), value: m.value }))
            .filter((m) => m.offset >= next);
          if (fresh.length > 0) {
            const started = performance.now();
            const result = await persistBatch(partition, fresh);
            expected.set(partition, fresh.at(-1)!.offset + 1);
            const ms = performance.now() - started;
            options.metrics?.batchPersisted(fresh.length, result, ms / 1000);
            logger.debug('persisted batch', { partition, ...result, ms: Math.round(ms) });
          }
          resolveOffset(batch.lastOffset());
          await commitOffsetsIfNecessary();
          await heartbeat();
        },
      });
    },
    async stop() {
      assigned = [];
      await consumer.disconnect();
    },
  };
}
