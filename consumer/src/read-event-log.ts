import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import { JoblineError, type Logger } from '@jobline/libs';

/** Per partition, the offset after the last message read: the topic's high-water marks when reading began. */
export type HighWaterMarks = ReadonlyMap<number, number>;

export interface LogMessage {
  offset: number;
  value: Buffer | null;
}

export interface ReadEventLogOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  logger: Logger;
  /** A name for the group the reader joins (`<purpose>-<uuid>`). */
  purpose: string;
  /** Called once, with the marks reading stops at and the number of messages below them. */
  onStart?: (highWaterMarks: HighWaterMarks, total: number) => void;
  /**
   * One partition's next messages, in log order, all below its mark. Calls for different partitions may overlap;
   * calls for one partition never do. A rejection stops the reading and is thrown by `readEventLog`.
   */
  onMessages: (partition: number, messages: LogMessage[]) => Promise<void>;
}

/**
 * Reads a topic from the beginning up to the high-water marks taken at start, so that reading a live log ends. It
 * reads under a group of its own and commits nothing, so the live groups never see it; the group is deleted at the
 * end. Refuses a topic that does not exist (`VALIDATION_FAILED`), rather than wait for one.
 */
export async function readEventLog(options: ReadEventLogOptions): Promise<HighWaterMarks> {
  const { kafka, admin, topic, logger } = options;
  if (!(await admin.listTopics()).includes(topic)) {
    throw new JoblineError('VALIDATION_FAILED', `nothing to read: the topic ${topic} does not exist`);
  }
  const offsets = await admin.fetchTopicOffsets(topic);
  const highWaterMarks = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const unfinished = new Set(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => o.partition));
  options.onStart?.(
    highWaterMarks,
    offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0),
  );
  if (unfinished.size === 0) return highWaterMarks;

  const groupId = `jobline-${options.purpose}-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    maxBytesPerPartition: 4 * 1024 * 1024,
    // A failed batch fails the reading; restarting would hand the caller the log a second time.
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
        if (messages.length > 0) await options.onMessages(partition, messages);
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
      logger.debug('could not delete the reading group', { groupId, err: err.message });
    });
  }
  return highWaterMarks;
}
