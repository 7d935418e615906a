import { isTerminal, type Job, type JobEventOf } from '@jobline/libs';

export type AttemptPlan =
  | { kind: 'skip'; reason: string }
  /** Run `attempt` of `job`, not before `dueAt` (epoch milliseconds). */
  | { kind: 'attempt'; job: Job; attempt: number; dueAt: number };

/**
 * What a runner does about a job, given the latest state it knows: nothing when the job is finished or out of
 * attempts; else the next attempt, at once or at its `runAt` when scheduled. A job found `processing` was being run by
 * a runner that stopped before recording the outcome: its attempt runs again (execution is at-least-once), but only
 * when it is the attempt the message being handled asked for (`askedFor`, see `attemptAskedBy`). A later attempt
 * was started by a retry timer, which is delivered again itself if its runner stopped; the message in hand is then a
 * copy of an old request or redrive, and running the attempt for it would run it twice at once.
 */
export function planAttempt(job: Job, now: number, askedFor?: number): AttemptPlan {
  if (isTerminal(job.status)) return { kind: 'skip', reason: `already ${job.status}` };
  if (job.status === 'processing') {
    if (askedFor !== undefined && job.attempts !== askedFor) {
      return { kind: 'skip', reason: `attempt ${job.attempts} runs; this message asked for attempt ${askedFor}` };
    }
    return { kind: 'attempt', job, attempt: job.attempts, dueAt: now };
  }
  if (job.attempts >= job.attemptLimit) return { kind: 'skip', reason: 'no attempts left' };
  const runAt = job.status === 'scheduled' && job.runAt ? Date.parse(job.runAt) : now;
  return { kind: 'attempt', job, attempt: job.attempts + 1, dueAt: runAt };
}

/**
 * Whether `attempt` of a job should still start, given the job's latest state (null: not recorded anywhere yet, so
 * nothing speaks against it): not when the job is finished or cancelled, nor when this attempt or a later one
 * already started. With `rerun`, the attempt recorded as running may start again: that is a runner taking over the
 * work of one that stopped before recording the outcome.
 */
export function attemptStillWanted(
  attempt: number,
  latest: Job | null,
  rerun = false,
): { wanted: boolean; reason?: string } {
  if (!latest) return { wanted: true };
  if (isTerminal(latest.status)) return { wanted: false, reason: `already ${latest.status}` };
  if (latest.attempts > attempt) return { wanted: false, reason: `attempt ${latest.attempts} already ran` };
  if (latest.attempts === attempt && !(rerun && latest.status === 'processing')) {
    return { wanted: false, reason: `attempt ${attempt} already started` };
  }
  return { wanted: true };
}

/**
 * The attempt a message asks for: a request, the first; a redrive, the first past the limit it raised (a redrive gives
 * the job `maxAttempts` more attempts after the one it failed on, so its first is `attemptLimit - maxAttempts + 1`).
 */
export function attemptAskedBy(event: JobEventOf<'JobRequested'> | JobEventOf<'JobRetryRequested'>, job: Job): number {
  return event.type === 'JobRequested' ? 1 : event.data.attemptLimit - job.maxAttempts + 1;
}
