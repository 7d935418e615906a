import type { Consumer, Kafka } from 'kafkajs';
import { decodePauseEvent, groupTimeouts, PausedWork, type Logger } from '@jobline/libs';
import type { PauseState } from '../pause-state';

export interface PauseViewOptions {
  kafka: Kafka;
  /** `jobline.pause-events`. */
  topic: string;
  /**
   * A consumer group of this process alone (`<RUNNER_GROUP_ID>-pauses-<RUNNER_ID>-<random>`), so that it is given
   * every partition: each runner needs every tenant's pauses. Nothing is ever committed in it.
   */
  groupId: string;
  /** Kafka group session timeout. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  logger: Logger;
}

export interface PauseView extends PauseState {
  /**
   * Reads the pause topic from its beginning and resolves once it has folded every event up to the end the topic had
   * when called; it follows new events after that. Rejects when the consumer fails for good.
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The runner's view of what is paused: the whole of `jobline.pause-events`, folded into `PausedWork`.
 *
 * A runner must never start a job whose pause is already in the log, also right after it starts. So `start()` first
 * asks where each partition ends, then reads every partition from its beginning, and resolves only once it has folded
 * everything before those ends; `main.ts` starts the runner's consumer after that. The topic holds pauses at the pace
 * of people, so reading it whole at every start stays cheap.
 *
 * Nothing is committed: a rejoin of the group (a broker restart, a session that timed out) reads the partitions from
 * the beginning again, and the view skips what it has folded already, by offset, so that it never goes back to an older
 * state. Listeners are called after each batch that changed whether some scope is paused; the runner's scheduler then
 * considers the jobs that waited for it.
 */
export function createPauseView(options: PauseViewOptions): PauseView {
  const { kafka, topic, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 250,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  const work = new PausedWork();
  const listeners = new Set<() => void>();
  /** Per partition, the next offset to fold. */
  const next = new Map<number, number>();
  /** Per partition, the end it had when `start()` was called; null until it is known. */
  let ends: Map<number, number> | null = null;
  let caughtUp = false;
  let settle: { resolve: () => void; reject: (err: unknown) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));

  function checkCaughtUp() {
    if (caughtUp || !ends) return;
    for (const [partition, end] of ends) if ((next.get(partition) ?? 0) < end) return;
    caughtUp = true;
    logger.info('pauses read', { topic, partitions: ends.size, events: [...ends.values()].reduce((a, b) => a + b, 0) });
    settle!.resolve();
  }

  function notify() {
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        logger.error('a pause listener failed', { err });
      }
    }
  }

  return {
    isPaused: (tenantId, type) => work.isPaused(tenantId, type),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      const admin = kafka.admin();
      await admin.connect();
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        for (const { partition, low } of offsets) next.set(partition, Number(low));
        ends = new Map(offsets.map(({ partition, high }) => [partition, Number(high)]));
      } finally {
        await admin.disconnect();
      }
      consumer.on(consumer.events.CRASH, ({ payload }) => {
        if (!payload.restart) settle!.reject(payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat }) => {
          let changed = false;
          for (const message of batch.messages) {
            const offset = Number(message.offset);
            if (offset < (next.get(batch.partition) ?? 0)) continue;
            next.set(batch.partition, offset + 1);
            const decoded = decodePauseEvent(message.value);
            if (!decoded.ok) {
              logger.warn('undecodable pause event; skipping', {
                partition: batch.partition,
                offset,
                reason: decoded.reason,
              });
              continue;
            }
            if (work.apply(decoded.event)) {
              changed = true;
              const { tenantId, type, data } = decoded.event;
              if (caughtUp)
                logger.info(type === 'WorkPaused' ? 'work paused' : 'work resumed', {
                  tenantId,
                  jobType: data.jobType,
                });
            }
          }
          // Past records that are not messages too (a batch's last offset counts them), so the end is reached.
          const last = Number(batch.lastOffset());
          if (last + 1 > (next.get(batch.partition) ?? 0)) next.set(batch.partition, last + 1);
          if (changed) notify();
          checkCaughtUp();
          await heartbeat();
        },
      });
      checkCaughtUp();
      await ready;
    },
    async stop() {
      listeners.clear();
      await consumer.disconnect();
    },
  };
}
