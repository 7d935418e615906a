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
 * Whether a timer for `attempt` still has work to do, given the projection (null while the persister has not written
 * the job). Timers can be duplicated by a runner crash between writing one and committing its input; the projection
 * shows which attempt already ran, and a cancelled or finished job runs no more.
 */
export function timerStillWanted(attempt: number, projected: Job | null): { wanted: boolean; reason?: string } {
  if (!projected) return { wanted: true };
  if (isTerminal(projected.status)) return { wanted: false, reason: `already ${projected.status}` };
  if (projected.attempts >= attempt) return { wanted: false, reason: `attempt ${attempt} already ran` };
  return { wanted: true };
}
