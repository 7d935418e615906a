/**
 * Durable timers on Kafka, by delay tiers.
 *
 * A job that must wait (a `runAt` in the future, or the backoff before a retry) is written as a timer message to one
 * of a few delay topics, each with a fixed hold: 5 s, 30 s, 2 min, 10 min, 1 h, 6 h. Because every message of a tier
 * topic is held for the same time, messages ripen in the order they were written, so a consumer only ever looks at
 * the head of each partition: while the head is not ripe it pauses the partition until it is, and holds nothing else
 * in memory. A ripe timer goes to the largest tier that still fits the time left, until less than the smallest tier
 * is left; that final wait happens in memory, and then the job runs.
 *
 * Why this design: the timers live in Kafka, not in a process, so a runner that dies (or a rebalance) loses nothing:
 * the partition's next owner resumes from the committed offset. Memory is bounded by the jobs due within the smallest
 * tier, not by the number of scheduled jobs. Nothing depends on the persister having written the projection, so there
 * is no race between a new owner reading MongoDB and the persister catching up. A timer is a copy of the job's
 * request plus the attempt it is for; the event log stays the record of what happened.
 */
export const DELAY_TIERS_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 21_600_000] as const;

export type TimerRoute =
  /** Due: run it now. */
  | { kind: 'run' }
  /** Due within the smallest tier: wait `ms` in memory, then run. */
  | { kind: 'wait'; ms: number }
  /** Hold it in the delay topic of this tier. */
  | { kind: 'delay'; tierMs: number };

/** Where a timer due at `dueAt` goes at time `now` (epoch milliseconds). */
export function routeTimer(dueAt: number, now: number, tiers: readonly number[] = DELAY_TIERS_MS): TimerRoute {
  const remaining = dueAt - now;
  if (remaining <= 0) return { kind: 'run' };
  const smallest = tiers[0] ?? Infinity;
  if (remaining < smallest) return { kind: 'wait', ms: remaining };
  let tierMs = smallest;
  for (const tier of tiers) if (tier <= remaining) tierMs = tier;
  return { kind: 'delay', tierMs };
}

/** The topic-name suffix of a tier: `5s`, `30s`, `2m`, `10m`, `1h`, `6h`. */
export function tierLabel(tierMs: number): string {
  if (tierMs % 3_600_000 === 0) return `${tierMs / 3_600_000}h`;
  if (tierMs % 60_000 === 0) return `${tierMs / 60_000}m`;
  if (tierMs % 1000 === 0) return `${tierMs / 1000}s`;
  return `${tierMs}ms`;
}
