import { DEFAULT_PRIORITY, type JobEvent } from '../events/job-events';
import { isTerminal, type Job } from './job';

export function initialState(): Job | null {
  return null;
}

/**
 * The job state machine: folds one event into the job's state. Pure and deterministic.
 *
 * Each event carries absolute values and is only applied when it moves the job forward, so applying an event twice,
 * or replaying any earlier part of the job's history on top of its current state, leaves the state unchanged. The
 * persister relies on this in addition to its Kafka position check.
 */
export function evolve(job: Job | null, event: JobEvent): Job | null {
  if (event.type === 'JobRequested') {
    if (job) return job;
    const d = event.data;
    return {
      id: event.jobId,
      tenantId: event.tenantId,
      type: d.type,
      payload: d.payload,
      status: d.runAt && instant(d.runAt) > instant(event.occurredAt) ? 'scheduled' : 'pending',
      attempts: 0,
      maxAttempts: d.maxAttempts,
      attemptLimit: d.maxAttempts,
      backoff: d.backoff,
      timeoutMs: d.timeoutMs,
      runAt: d.runAt,
      callbackUrl: d.callbackUrl,
      notify: d.notify,
      metadata: d.metadata,
      idempotencyKey: d.idempotencyKey,
      priority: d.priority ?? DEFAULT_PRIORITY,
      progress: null,
      result: null,
      resultUrl: null,
      error: null,
      runnerId: null,
      cancelRequestedAt: null,
      deadLetteredAt: null,
      createdAt: event.occurredAt,
      updatedAt: event.occurredAt,
      startedAt: null,
      finishedAt: null,
    };
  }
  if (!job) return job;
  const at = event.occurredAt;

  switch (event.type) {
    case 'JobStarted': {
      const { attempt, runnerId } = event.data;
      if (isTerminal(job.status) || !isNewAttempt(job, attempt)) return job;
      // The running attempt starts again only when a runner re-runs it after its first runner stopped: a later start.
      // Its own start, or an older one, replayed, changes nothing.
      if (attempt === job.attempts && job.startedAt !== null && instant(at) <= instant(job.startedAt)) return job;
      return {
        ...job,
        status: 'processing',
        attempts: attempt,
        runnerId,
        progress: null,
        startedAt: at,
        updatedAt: at,
      };
    }
    case 'JobProgressed': {
      const { attempt, current, total, message } = event.data;
      // Progress replayed from before the job's latest change is old news.
      if (job.status !== 'processing' || attempt !== job.attempts || instant(at) < instant(job.updatedAt)) return job;
      return { ...job, progress: { current, total, message }, updatedAt: at };
    }
    case 'JobCompleted': {
      const { attempt, result, resultUrl } = event.data;
      if (isTerminal(job.status) || attempt < job.attempts) return job;
      return {
        ...job,
        status: 'completed',
        attempts: attempt,
        result,
        resultUrl,
        error: null,
        finishedAt: at,
        updatedAt: at,
      };
    }
    case 'JobAttemptFailed': {
      const { attempt, error, nextRunAt } = event.data;
      if (isTerminal(job.status) || !isNewAttempt(job, attempt)) return job;
      return {
        ...job,
        status: nextRunAt ? 'scheduled' : 'failed',
        attempts: attempt,
        error,
        runAt: nextRunAt ?? job.runAt,
        finishedAt: nextRunAt ? null : at,
        updatedAt: at,
      };
    }
    case 'JobDeadLettered':
      // Only the failure that ended the current run is dead-lettered; an earlier run's, replayed after a redrive, is not.
      if (job.status !== 'failed' || event.data.attempt !== job.attempts || job.deadLetteredAt) return job;
      return { ...job, deadLetteredAt: at, updatedAt: at };
    case 'JobCancelRequested':
      if (isTerminal(job.status) || job.cancelRequestedAt) return job;
      return { ...job, cancelRequestedAt: at, updatedAt: at };
    case 'JobCancelled':
      if (isTerminal(job.status)) return job;
      return {
        ...job,
        status: 'cancelled',
        cancelRequestedAt: job.cancelRequestedAt ?? at,
        finishedAt: at,
        updatedAt: at,
      };
    case 'JobRetryRequested': {
      const { attemptLimit } = event.data;
      if (job.status !== 'failed' || attemptLimit <= job.attemptLimit) return job;
      return {
        ...job,
        status: 'pending',
        attemptLimit,
        error: null,
        runAt: null,
        deadLetteredAt: null,
        finishedAt: null,
        updatedAt: at,
      };
    }
    case 'JobDiscarded':
      // Only the failure the discard was decided on: after a redrive the job is no longer that dead letter.
      if (job.status !== 'failed' || event.data.attempt !== job.attempts) return job;
      // finishedAt stays the moment the job failed: it finished then, and was only set aside now.
      return { ...job, status: 'discarded', updatedAt: at };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

/**
 * An attempt's start or failure applies only once: to a later attempt than the current one, or to the current
 * attempt while it is running (its start, applied again, or its failure).
 */
function isNewAttempt(job: Job, attempt: number): boolean {
  return attempt > job.attempts || (attempt === job.attempts && job.status === 'processing');
}

/** Timestamps may carry any UTC offset: compare the instants they name, not their text. */
function instant(timestamp: string): number {
  return Date.parse(timestamp);
}

/** Folds a sequence of events, starting from `job` (the initial state by default). */
export function foldEvents(events: Iterable<JobEvent>, job: Job | null = initialState()): Job | null {
  let state = job;
  for (const event of events) state = evolve(state, event);
  return state;
}
