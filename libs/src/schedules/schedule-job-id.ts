import { createHash } from 'node:crypto';

/**
 * The id of the job a schedule's fire creates: a UUID (version 8, RFC 9562) whose first 48 bits are the fire time in
 * milliseconds, like the UUID v7 of every other job, and whose remaining bits hash the schedule id and the fire time.
 * Whoever fires a schedule at that time, however often (two runners during a rebalance, a restart, a replay), names
 * the same job, and the log keeps the first request of it: `evolve` ignores a `JobRequested` for a job that exists.
 */
export function scheduledJobId(scheduleId: string, fireAt: number): string {
  return derivedId(`job ${scheduleId} ${fireAt}`, fireAt);
}

/** The event id of that job's `JobRequested`: the same for every firing, so that the event history holds it once. */
export function scheduledRequestEventId(scheduleId: string, fireAt: number): string {
  return derivedId(`requested ${scheduleId} ${fireAt}`, fireAt);
}

function derivedId(name: string, at: number): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes.writeUIntBE(at, 0, 6);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
