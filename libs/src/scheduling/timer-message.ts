import type { Message } from 'kafkajs';
import { z } from 'zod';
import type { Job } from '../jobs/job';

const timestamp = z.iso.datetime({ offset: true });

/**
 * A durable timer: run `attempt` of `job` not before `dueAt`. `job` is the job's state when the timer was set, written
 * and read by runners only; it carries what the attempt needs (type, payload, limits), so that a timer runs without
 * waiting for the projection.
 */
export const TimerMessage = z.object({
  job: z
    .looseObject({ id: z.string(), tenantId: z.string(), type: z.string(), status: z.string() })
    .transform((j) => j as unknown as Job),
  attempt: z.number().int().min(1),
  dueAt: timestamp,
  /** When the timer was written to its current delay topic: it ripens one tier later. */
  enqueuedAt: timestamp,
});
export type TimerMessage = z.infer<typeof TimerMessage>;

export function encodeTimer(timer: TimerMessage): Message {
  return { key: timer.job.id, value: JSON.stringify(timer) };
}

export type DecodedTimer = { ok: true; timer: TimerMessage } | { ok: false; reason: string };

/** Never throws: a timer that cannot be read is reported, so the partition keeps flowing. */
export function decodeTimer(value: Buffer | null): DecodedTimer {
  if (!value) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = TimerMessage.safeParse(json);
  return parsed.success ? { ok: true, timer: parsed.data } : { ok: false, reason: parsed.error.issues[0]!.message };
}
