import type { JobErrorInfo, JobEvent } from '../events/job-events';
import { newEvent, type EventContext } from '../events/new-event';
import { JoblineError } from '../errors/jobline-error';
import { backoffDelayMs, MAX_BACKOFF_MS } from './backoff';
import { isTerminal, type Job } from './job';

export type JobCommand =
  | { type: 'StartAttempt'; attempt: number; runnerId: string }
  | { type: 'CompleteAttempt'; attempt: number; result: unknown; resultUrl: string | null }
  /** `retryAfterMs`: the least time before the next attempt, asked for by the far side (e.g. `Retry-After`). */
  | { type: 'FailAttempt'; attempt: number; error: JobErrorInfo; retryAfterMs?: number }
  | { type: 'CancelJob'; reason: string | null }
  /** The runner stopped a running attempt because its cancellation was requested. */
  | { type: 'CancelAttempt'; attempt: number; reason: string | null }
  /** `bulkJobId`: the `deadLetters.redrive` job that asks, recorded in the event. */
  | { type: 'RetryJob'; bulkJobId?: string }
  /** Sets a failed job aside for good (`deadLetters.discard`). */
  | { type: 'DiscardJob'; reason: string | null; bulkJobId: string | null };

export interface DecideContext extends Omit<EventContext, 'jobId' | 'tenantId'> {
  /** A number in [0, 1) for backoff jitter. */
  random: number;
}

/**
 * Decides which events a command produces against the job's current state, or throws a `JoblineError` with a stable
 * code when the command is not allowed in that state. Pure: the clock and randomness come in through `ctx`.
 */
export function decide(command: JobCommand, job: Job | null, ctx: DecideContext): JobEvent[] {
  if (!job) throw new JoblineError('JOB_NOT_FOUND', 'job not found');
  const eventCtx: EventContext = { jobId: job.id, tenantId: job.tenantId, source: ctx.source, now: ctx.now };

  switch (command.type) {
    case 'StartAttempt':
      if (isTerminal(job.status)) {
        throw new JoblineError('JOB_ALREADY_FINISHED', `job is already ${job.status}`);
      }
      return [newEvent('JobStarted', eventCtx, { attempt: command.attempt, runnerId: command.runnerId })];
    case 'CompleteAttempt':
      if (isTerminal(job.status)) {
        throw new JoblineError('JOB_ALREADY_FINISHED', `job is already ${job.status}`);
      }
      return [
        newEvent('JobCompleted', eventCtx, {
          attempt: command.attempt,
          result: command.result,
          resultUrl: command.resultUrl,
        }),
      ];
    case 'FailAttempt': {
      if (isTerminal(job.status)) {
        throw new JoblineError('JOB_ALREADY_FINISHED', `job is already ${job.status}`);
      }
      // A requested wait longer than any backoff may last cannot be honoured: the job fails rather than run early.
      const delayMs = Math.max(backoffDelayMs(command.attempt, job.backoff, ctx.random), command.retryAfterMs ?? 0);
      const retry = command.error.retryable && command.attempt < job.attemptLimit && delayMs <= MAX_BACKOFF_MS;
      const nextRunAt = retry ? new Date(ctx.now.getTime() + delayMs).toISOString() : null;
      const failed = newEvent('JobAttemptFailed', eventCtx, {
        attempt: command.attempt,
        error: command.error,
        nextRunAt,
      });
      if (retry) return [failed];
      // Out of attempts, or not worth retrying: the job fails for good and its request goes to the dead letters.
      return [failed, newEvent('JobDeadLettered', eventCtx, { attempt: command.attempt, error: command.error })];
    }
    case 'CancelJob':
      if (isTerminal(job.status)) {
        throw new JoblineError('JOB_NOT_CANCELLABLE', `a ${job.status} job cannot be cancelled`);
      }
      if (job.status === 'processing') {
        // A running job is cancelled cooperatively: the runner aborts the handler and then emits JobCancelled.
        return [newEvent('JobCancelRequested', eventCtx, { reason: command.reason })];
      }
      return [newEvent('JobCancelled', eventCtx, { reason: command.reason })];
    case 'CancelAttempt':
      if (isTerminal(job.status)) {
        throw new JoblineError('JOB_ALREADY_FINISHED', `job is already ${job.status}`);
      }
      return [newEvent('JobCancelled', eventCtx, { reason: command.reason })];
    case 'RetryJob':
      if (job.status !== 'failed') {
        throw new JoblineError('JOB_NOT_RETRYABLE', `only a failed job can be retried; this one is ${job.status}`);
      }
      return [
        newEvent('JobRetryRequested', eventCtx, {
          attemptLimit: job.attempts + job.maxAttempts,
          ...(command.bulkJobId !== undefined ? { bulkJobId: command.bulkJobId } : {}),
        }),
      ];
    case 'DiscardJob':
      if (job.status !== 'failed') {
        throw new JoblineError('JOB_NOT_DISCARDABLE', `only a failed job can be discarded; this one is ${job.status}`);
      }
      return [
        newEvent('JobDiscarded', eventCtx, {
          attempt: job.attempts,
          reason: command.reason,
          bulkJobId: command.bulkJobId,
        }),
      ];
    default: {
      const _never: never = command;
      return _never;
    }
  }
}
