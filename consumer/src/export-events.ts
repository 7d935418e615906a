import type { Admin, Kafka } from 'kafkajs';
import { decodeEvent, type Logger } from '@jobline/libs';
import { readEventLog, type HighWaterMarks } from './read-event-log';
import type { ReplayProgress } from './replay';

/** From `since` (included) to `until` (excluded), compared with each event's `occurredAt`. */
export interface TimeRange {
  since: Date;
  until: Date;
}

export interface ExportEventsOptions {
  kafka: Kafka;
  admin: Admin;
  /** The event topic. */
  topic: string;
  range: TimeRange;
  /** Takes whole NDJSON lines; resolves once more may be written (a file's or a pipe's backpressure). */
  write: (lines: string) => Promise<void>;
  logger: Logger;
  onProgress?: (progress: ReplayProgress) => void;
  /** Milliseconds from an arbitrary origin, for the timings. @defaultValue `performance.now` */
  clock?: () => number;
}

export interface ExportEventsResult {
  /** Events written, one per line. */
  events: number;
  /** Log entries that repeat an event already written (a publish retried after a timeout): left out. */
  repeated: number;
  /** Messages that are not events: counted, not written. */
  undecodable: number;
  /** Messages read, in the range or not. */
  scanned: number;
  highWaterMarks: HighWaterMarks;
  seconds: number;
}

/**
 * Writes the events of the log whose `occurredAt` falls in a time range, as NDJSON: one event per line, as the
 * published JSON Schemas describe it (`docs/events/`), each event once. Reads the whole topic up to its high-water
 * marks at start (`readEventLog`): an event's Kafka timestamp says when it was appended, not when it happened (a
 * backfill or a retried publish appends it later), so the broker's time index cannot bound the range safely.
 *
 * Each job's events come in their log order (they share a partition); the partitions' lines interleave.
 */
export async function exportEvents(options: ExportEventsOptions): Promise<ExportEventsResult> {
  const { range, write } = options;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const since = range.since.getTime();
  const until = range.until.getTime();
  const written = new Set<string>();
  // kafkajs hands a batch again after a failed attempt at it; what was written from it is not written twice.
  const next = new Map<number, number>();
  let total = 0;
  let scanned = 0;
  let repeated = 0;
  let undecodable = 0;

  const highWaterMarks = await readEventLog({
    kafka: options.kafka,
    admin: options.admin,
    topic: options.topic,
    logger: options.logger,
    purpose: 'export',
    onStart: (_marks, messages) => (total = messages),
    onMessages: async (partition, messages) => {
      const fresh = messages.filter((m) => m.offset >= (next.get(partition) ?? 0));
      if (fresh.length === 0) return;
      // Counted once the lines are out: a batch whose write failed is handed again and counted then.
      const lines: string[] = [];
      const ids = new Set<string>();
      let batchRepeated = 0;
      let batchUndecodable = 0;
      for (const message of fresh) {
        const decoded = decodeEvent(message.value);
        if (!decoded.ok) {
          batchUndecodable += 1;
          continue;
        }
        const { event } = decoded;
        const at = Date.parse(event.occurredAt);
        if (at < since || at >= until) continue;
        if (written.has(event.eventId) || ids.has(event.eventId)) {
          batchRepeated += 1;
          continue;
        }
        ids.add(event.eventId);
        lines.push(`${JSON.stringify(event)}\n`);
      }
      if (lines.length > 0) await write(lines.join(''));
      for (const id of ids) written.add(id);
      repeated += batchRepeated;
      undecodable += batchUndecodable;
      next.set(partition, fresh.at(-1)!.offset + 1);
      scanned += fresh.length;
      options.onProgress?.({ done: scanned, total, elapsedMs: clock() - started });
    },
  });

  return {
    events: written.size,
    repeated,
    undecodable,
    scanned,
    highWaterMarks,
    seconds: (clock() - started) / 1000,
  };
}
