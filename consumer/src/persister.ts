import type { Admin, Consumer, Kafka } from 'kafkajs';
import { checkpointId, groupTimeouts, type JoblineCollections, type Logger } from '@jobline/libs';
import { BatchCoalescer } from './batch-coalescer';
import type { BatchPersister, PartitionBatch, PersistResult } from './persist-batch';
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
  /**
   * Longest a fetch waits on the broker for more events (up to 64 KiB) before it returns what there is: fewer, larger
   * batches under load, at the price of that much projection lag when the log is quiet. @defaultValue 50
   */
  fetchWaitMs?: number;
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
 *
 * Batches of the partitions of one fetch are written together (`BatchCoalescer`): one round trip to MongoDB and Redis
 * per step carries every partition's events.
 */
export function createPersister(options: PersisterOptions): Persister {
  const { kafka, admin, topic, collections, persistBatch, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    minBytes: 64 * 1024,
    maxWaitTimeInMs: options.fetchWaitMs ?? 50,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  const writes = new BatchCoalescer<PartitionBatch, PersistResult>(
    async (batches) => {
      const started = performance.now();
      const result = await persistBatch(batches);
      const ms = performance.now() - started;
      const events = batches.reduce((sum, b) => sum + b.messages.length, 0);
      options.metrics?.batchPersisted(events, result, ms / 1000);
      logger.debug('persisted batch', { partitions: batches.map((b) => b.partition), ...result, ms: Math.round(ms) });
      return result;
    },
    (batch) => batch.messages.length,
  );
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
        (err: Error & { retriable?: boolean }) => {
          // A topic just created may have no leader yet: the partition's first batch reads its checkpoint again.
          if (err.retriable) logger.debug('checkpoint not read yet', { partition, err: err.message });
          else logger.error('could not read the checkpoint', { partition, err });
        },
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
        // Every partition of a fetch at once, so that their batches share one write.
        partitionsConsumedConcurrently: 64,
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
            await writes.submit({ partition, messages: fresh });
            expected.set(partition, fresh.at(-1)!.offset + 1);
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
