import type { Consumer, Kafka } from 'kafkajs';
import { decodeEvent, type Logger } from '@jobline/libs';
import { executeJob, WorkAbandoned, type ExecuteJobDeps } from './execute-job';
import { OffsetTracker } from './offset-tracker';
import { Semaphore } from './semaphore';

export interface RunnerConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  concurrency: number;
  execute: Omit<ExecuteJobDeps, 'stopSignal'>;
  logger: Logger;
}

export interface RunnerConsumer {
  start(): Promise<void>;
  /** Stops taking work, waits up to `graceMs` for running jobs, abandons the rest (they are redelivered). */
  stop(graceMs: number): Promise<void>;
  readonly inFlight: number;
}

const HEARTBEAT_MS = 3000;

/**
 * Executes `JobRequested` events from the log. Jobs of one batch run concurrently up to the concurrency limit and may
 * finish out of order; the committed offset only advances over jobs whose outcome Kafka has acknowledged, so a crash
 * loses nothing: unfinished jobs are delivered again (at-least-once execution).
 */
export function createRunnerConsumer(options: RunnerConsumerOptions): RunnerConsumer {
  const { kafka, topic, logger } = options;
  const consumer: Consumer = kafka.consumer({ groupId: options.groupId });
  const slots = new Semaphore(options.concurrency);
  const stop = new AbortController();
  const deps: ExecuteJobDeps = { ...options.execute, stopSignal: stop.signal };

  return {
    get inFlight() {
      return slots.inUse;
    },
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.concurrency,
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
          const tracker = new OffsetTracker();
          const runs: Promise<void>[] = [];
          const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
          const done = (offset: number) => {
            const committable = tracker.complete(offset);
            if (committable !== null) resolveOffset(String(committable));
          };
          try {
            for (const message of batch.messages) {
              if (!isRunning() || isStale() || stop.signal.aborted) break;
              const offset = Number(message.offset);
              tracker.track(offset);
              const decoded = decodeEvent(message.value);
              if (!decoded.ok || decoded.event.type !== 'JobRequested') {
                done(offset);
                continue;
              }
              await slots.acquire();
              const event = decoded.event;
              runs.push(
                executeJob(event, deps)
                  .then(() => done(offset))
                  .catch((err: unknown) => {
                    if (!(err instanceof WorkAbandoned)) {
                      logger.error('job execution failed', { jobId: event.jobId, err: String(err) });
                    }
                  })
                  .finally(() => slots.release()),
              );
            }
            await Promise.all(runs);
            await commitOffsetsIfNecessary();
          } finally {
            clearInterval(beat);
          }
        },
      });
    },
    async stop(graceMs) {
      const timer = setTimeout(() => stop.abort(), graceMs);
      try {
        await consumer.disconnect();
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
