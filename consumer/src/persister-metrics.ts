import { Counter, DURATION_BUCKETS, Gauge, Histogram, type Logger, type Registry } from '@jobline/libs';
import type { PersistResult } from './persist-batch';

export interface PersisterMetrics {
  batchPersisted(messages: number, result: PersistResult, seconds: number): void;
}

export interface LagSource {
  /** Partitions this member holds now. */
  partitions: () => readonly number[];
  /** Where each partition's log ends (the next offset to be written). */
  logEnds: () => Promise<Map<number, number>>;
  /** The next offset the persister will store, per partition, from its checkpoints; absent: from the log's start. */
  nextOffsets: (partitions: readonly number[]) => Promise<Map<number, number>>;
  /** The log's first offset per partition, for partitions without a checkpoint. */
  logStarts: () => Promise<Map<number, number>>;
}

/**
 * The persister's series. Lag is measured on scrape against the checkpoints in MongoDB, which decide where the
 * persister resumes, not the group's committed offsets; each member reports only the partitions it holds, so that a
 * sum over members is the group's lag.
 */
export function createPersisterMetrics(registry: Registry, lag: LagSource, logger: Logger): PersisterMetrics {
  const batchSize = new Histogram({
    name: 'jobline_persister_batch_size',
    help: 'Messages per persisted batch',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'jobline_persister_batch_duration_seconds',
    help: 'Time to fold one batch into MongoDB and refresh the cache',
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const persisted = new Counter({
    name: 'jobline_persister_events_persisted_total',
    help: 'Events appended to job_events (duplicates excluded)',
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'jobline_persister_duplicate_events_total',
    help: 'Events delivered again and already stored',
    registers: [registry],
  });
  const poison = new Counter({
    name: 'jobline_persister_poison_messages_total',
    help: 'Undecodable messages sent to the quarantine topic',
    registers: [registry],
  });
  new Gauge({
    name: 'jobline_persister_lag_messages',
    help: 'Messages in the log past the checkpoint, per partition held by this persister',
    labelNames: ['partition'],
    registers: [registry],
    async collect() {
      this.reset();
      const partitions = lag.partitions();
      if (partitions.length === 0) return;
      try {
        const [ends, next, starts] = await Promise.all([lag.logEnds(), lag.nextOffsets(partitions), lag.logStarts()]);
        for (const partition of partitions) {
          const end = ends.get(partition);
          if (end === undefined) continue;
          const from = next.get(partition) ?? starts.get(partition) ?? 0;
          this.set({ partition: String(partition) }, Math.max(0, end - from));
        }
      } catch (err) {
        // A scrape must not fail because Kafka or MongoDB is away; the lag is missing from it instead.
        logger.debug('lag not measured', { err: (err as Error).message });
      }
    },
  });

  return {
    batchPersisted(messages, result, seconds) {
      batchSize.observe(messages);
      batchDuration.observe(seconds);
      persisted.inc(result.events - result.duplicates);
      duplicates.inc(result.duplicates);
      poison.inc(result.poison);
    },
  };
}
