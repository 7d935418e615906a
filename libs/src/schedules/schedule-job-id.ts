import { derivedId } from '../events/derived-id';

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
