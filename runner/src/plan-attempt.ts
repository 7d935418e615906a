import { isTerminal, type Job } from '@jobline/libs';

export type AttemptPlan =
  | { kind: 'skip'; reason: string }
  /** Run `attempt` of `job`, not before `dueAt` (epoch milliseconds). */
  | { kind: 'attempt'; job: Job; attempt: number; dueAt: number };

/**
 * What a runner does about a job, given the latest state it knows: nothing when the job is finished or out of
 * attempts; else the next attempt, at once or at its `runAt` when scheduled. A job found `processing` was being run by
 * a runner that stopped before recording the outcome: its attempt runs again (execution is at-least-once).
 */
export function planAttempt(job: Job, now: number): AttemptPlan {
  if (isTerminal(job.status)) return { kind: 'skip', reason: `already ${job.status}` };
  if (job.status === 'processing') return { kind: 'attempt', job, attempt: job.attempts, dueAt: now };
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
