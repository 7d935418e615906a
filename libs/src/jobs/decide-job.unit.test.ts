import { JoblineError, type ErrorCode } from '../errors/jobline-error';
import type { BackoffPolicy, JobEvent, JobEventOf, JobEventType } from '../events/job-events';
import { newEvent } from '../events/new-event';
import { MAX_BACKOFF_MS } from './backoff';
import { decide, type DecideContext, type JobCommand } from './decide-job';
import { evolve, foldEvents } from './evolve-job';
import type { Job } from './job';

const JOB_ID = '5d2c7a10-2f4b-4c8e-8a61-7e9f0b3d2c1a';
const TENANT = 'acme';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (second: number) => new Date(T0 + second * 1000);
const NOW = at(100);
/** random 0.5 gives 3/4 of the nominal backoff delay: round(d/2 + d/2 * 0.5). */
const CTX: DecideContext = { source: 'runner', now: NOW, random: 0.5 };

// ---- given: events, built with newEvent ----

function event<T extends JobEventType>(type: T, second: number, data: JobEventOf<T>['data']): JobEventOf<T> {
  return newEvent(type, { jobId: JOB_ID, tenantId: TENANT, source: 'runner', now: at(second) }, data);
}
const requested = (maxAttempts = 3, backoff: BackoffPolicy = { type: 'fixed', delayMs: 1000 }) =>
  event('JobRequested', 0, {
    type: 'sleep',
    payload: { ms: 10 },
    runAt: null,
    maxAttempts,
    backoff,
    timeoutMs: null,
    callbackUrl: null,
    notify: null,
    metadata: {},
    idempotencyKey: null,
  });
const started = (attempt: number) => event('JobStarted', attempt * 10, { attempt, runnerId: 'runner-1' });
const failed = (attempt: number, nextRunAt: Date | null) =>
  event('JobAttemptFailed', attempt * 10 + 1, {
    attempt,
    error: { code: 'HANDLER_FAILED', message: 'boom', retryable: nextRunAt !== null },
    nextRunAt: nextRunAt?.toISOString() ?? null,
  });
const completed = (attempt: number) =>
  event('JobCompleted', attempt * 10 + 1, { attempt, result: null, resultUrl: null });
const cancelled = () => event('JobCancelled', 50, { reason: null });
const retryRequested = (attemptLimit: number) => event('JobRetryRequested', 60, { attemptLimit });

const retryable = { code: 'HANDLER_FAILED', message: 'boom', retryable: true };
const permanent = { code: 'VALIDATION_FAILED', message: 'bad payload', retryable: false };

/** Emmett-style specification: given events, when a command, then events (type and data) or an error code. */
function given(...events: JobEvent[]) {
  const job = foldEvents(events);
  return {
    when(command: JobCommand, ctx: DecideContext = CTX) {
      const run = () => decide(command, job, ctx);
      return {
        then(expected: Pick<JobEvent, 'type' | 'data'>[]) {
          expect(run().map(({ type, data }) => ({ type, data }))).toEqual(expected);
        },
        thenThrows(code: ErrorCode) {
          expect(run).toThrow(JoblineError);
          expect(run).toThrow(expect.objectContaining({ code }));
        },
      };
    },
  };
}

const scheduledJob = [requested(), started(1), failed(1, at(15))];
const processingJob = [requested(), started(1)];
const completedJob = [requested(), started(1), completed(1)];
const failedJob = [requested(1), started(1), failed(1, null)];
const cancelledJob = [requested(), cancelled()];
const discardedJob = [...failedJob, event('JobDiscarded', 70, { attempt: 1, reason: null, bulkJobId: null })];
const BULK_JOB_ID = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('decide', () => {
  it('stamps events with the job, the tenant, the source and the clock of the context', () => {
    const job = foldEvents([requested()]);

    const [e] = decide({ type: 'StartAttempt', attempt: 1, runnerId: 'r' }, job, { ...CTX, source: 'cli' });

    expect(e).toMatchObject({
      jobId: JOB_ID,
      tenantId: TENANT,
      source: 'cli',
      occurredAt: NOW.toISOString(),
      schemaVersion: 1,
    });
  });

  it.each<JobCommand>([
    { type: 'StartAttempt', attempt: 1, runnerId: 'r' },
    { type: 'CompleteAttempt', attempt: 1, result: null, resultUrl: null },
    { type: 'FailAttempt', attempt: 1, error: retryable },
    { type: 'CancelJob', reason: null },
    { type: 'RetryJob' },
  ])('rejects $type for an unknown job with JOB_NOT_FOUND', (command) => {
    given().when(command).thenThrows('JOB_NOT_FOUND');
  });

  describe('StartAttempt', () => {
    it('starts an attempt of a pending job', () => {
      given(requested())
        .when({ type: 'StartAttempt', attempt: 1, runnerId: 'runner-9' })
        .then([{ type: 'JobStarted', data: { attempt: 1, runnerId: 'runner-9' } }]);
    });

    it('starts the next attempt of a scheduled job', () => {
      given(...scheduledJob)
        .when({ type: 'StartAttempt', attempt: 2, runnerId: 'r' })
        .then([{ type: 'JobStarted', data: { attempt: 2, runnerId: 'r' } }]);
    });

    it.each([
      ['completed', completedJob],
      ['failed', failedJob],
      ['cancelled', cancelledJob],
    ])('rejects a %s job with JOB_ALREADY_FINISHED', (_, history) => {
      given(...history)
        .when({ type: 'StartAttempt', attempt: 2, runnerId: 'r' })
        .thenThrows('JOB_ALREADY_FINISHED');
    });
  });

  describe('CompleteAttempt', () => {
    it('completes the running attempt with its result', () => {
      given(...processingJob)
        .when({ type: 'CompleteAttempt', attempt: 1, result: { n: 1 }, resultUrl: 'https://r.example/1' })
        .then([{ type: 'JobCompleted', data: { attempt: 1, result: { n: 1 }, resultUrl: 'https://r.example/1' } }]);
    });

    it.each([
      ['completed', completedJob],
      ['failed', failedJob],
      ['cancelled', cancelledJob],
    ])('rejects a %s job with JOB_ALREADY_FINISHED', (_, history) => {
      given(...history)
        .when({ type: 'CompleteAttempt', attempt: 1, result: null, resultUrl: null })
        .thenThrows('JOB_ALREADY_FINISHED');
    });
  });

  describe('FailAttempt', () => {
    it('schedules a retryable failure below the attempt limit at now + backoff', () => {
      // given: fixed 1000 ms backoff, random 0.5 → 750 ms
      given(...processingJob)
        .when({ type: 'FailAttempt', attempt: 1, error: retryable })
        .then([
          {
            type: 'JobAttemptFailed',
            data: { attempt: 1, error: retryable, nextRunAt: new Date(NOW.getTime() + 750).toISOString() },
          },
        ]);
    });

    it('uses the exponential backoff of the job for the attempt that failed', () => {
      // given: exponential 1000 ms → attempt 2 has a nominal delay of 2000 ms; random 0 → 1000 ms
      given(requested(3, { type: 'exponential', delayMs: 1000 }), started(1), failed(1, at(15)), started(2))
        .when({ type: 'FailAttempt', attempt: 2, error: retryable }, { ...CTX, random: 0 })
        .then([
          {
            type: 'JobAttemptFailed',
            data: { attempt: 2, error: retryable, nextRunAt: new Date(NOW.getTime() + 1000).toISOString() },
          },
        ]);
    });

    it('waits the requested retryAfterMs when it is longer than the backoff', () => {
      // given: fixed 1000 ms backoff, random 0.5 → 750 ms; the far side asked for 2 s
      given(...processingJob)
        .when({ type: 'FailAttempt', attempt: 1, error: retryable, retryAfterMs: 2000 })
        .then([
          {
            type: 'JobAttemptFailed',
            data: { attempt: 1, error: retryable, nextRunAt: new Date(NOW.getTime() + 2000).toISOString() },
          },
        ]);
    });

    it('keeps the backoff when it is longer than the requested retryAfterMs', () => {
      given(...processingJob)
        .when({ type: 'FailAttempt', attempt: 1, error: retryable, retryAfterMs: 100 })
        .then([
          {
            type: 'JobAttemptFailed',
            data: { attempt: 1, error: retryable, nextRunAt: new Date(NOW.getTime() + 750).toISOString() },
          },
        ]);
    });

    it('fails for good when the requested wait exceeds the longest backoff, rather than retry early', () => {
      given(...processingJob)
        .when({ type: 'FailAttempt', attempt: 1, error: retryable, retryAfterMs: MAX_BACKOFF_MS + 1 })
        .then([
          { type: 'JobAttemptFailed', data: { attempt: 1, error: retryable, nextRunAt: null } },
          { type: 'JobDeadLettered', data: { attempt: 1, error: retryable } },
        ]);
    });

    it('ignores retryAfterMs on a non-retryable failure', () => {
      given(...processingJob)
        .when({ type: 'FailAttempt', attempt: 1, error: permanent, retryAfterMs: 2000 })
        .then([
          { type: 'JobAttemptFailed', data: { attempt: 1, error: permanent, nextRunAt: null } },
          { type: 'JobDeadLettered', data: { attempt: 1, error: permanent } },
        ]);
    });

    it('fails for good on a retryable failure of the last allowed attempt', () => {
      given(requested(2), started(1), failed(1, at(15)), started(2))
        .when({ type: 'FailAttempt', attempt: 2, error: retryable })
        .then([
          { type: 'JobAttemptFailed', data: { attempt: 2, error: retryable, nextRunAt: null } },
          { type: 'JobDeadLettered', data: { attempt: 2, error: retryable } },
        ]);
    });

    it('fails for good on a non-retryable failure, whatever attempts are left', () => {
      given(requested(5), started(1))
        .when({ type: 'FailAttempt', attempt: 1, error: permanent })
        .then([
          { type: 'JobAttemptFailed', data: { attempt: 1, error: permanent, nextRunAt: null } },
          { type: 'JobDeadLettered', data: { attempt: 1, error: permanent } },
        ]);
    });

    it('retries again after a redrive, up to the raised attempt limit', () => {
      // given: maxAttempts 2; failed for good on attempt 2; redriven to attempt limit 4; attempt 3 running
      const redriven = [requested(2), started(1), failed(1, at(15)), started(2), failed(2, null), retryRequested(4)];

      given(...redriven, started(3))
        .when({ type: 'FailAttempt', attempt: 3, error: retryable })
        .then([
          {
            type: 'JobAttemptFailed',
            data: { attempt: 3, error: retryable, nextRunAt: new Date(NOW.getTime() + 750).toISOString() },
          },
        ]);
      given(...redriven, started(3), failed(3, at(35)), started(4))
        .when({ type: 'FailAttempt', attempt: 4, error: retryable })
        .then([
          { type: 'JobAttemptFailed', data: { attempt: 4, error: retryable, nextRunAt: null } },
          { type: 'JobDeadLettered', data: { attempt: 4, error: retryable } },
        ]);
    });

    it.each([
      ['completed', completedJob],
      ['failed', failedJob],
      ['cancelled', cancelledJob],
    ])('rejects a %s job with JOB_ALREADY_FINISHED', (_, history) => {
      given(...history)
        .when({ type: 'FailAttempt', attempt: 1, error: retryable })
        .thenThrows('JOB_ALREADY_FINISHED');
    });

    // An exponential policy without maxDelayMs would pass the largest Date around attempt 45; MAX_BACKOFF_MS caps it.
    it('decides a retry of a late attempt under an uncapped exponential backoff', () => {
      const job = foldEvents([requested(100, { type: 'exponential', delayMs: 1000 })]);

      const [e] = decide({ type: 'FailAttempt', attempt: 45, error: retryable }, job, CTX);

      expect(e?.type).toBe('JobAttemptFailed');
    });
  });

  describe('CancelJob', () => {
    it.each([
      ['pending', [requested()]],
      ['scheduled', scheduledJob],
    ])('cancels a %s job at once', (_, history) => {
      given(...history)
        .when({ type: 'CancelJob', reason: 'no longer needed' })
        .then([{ type: 'JobCancelled', data: { reason: 'no longer needed' } }]);
    });

    it('asks the runner to cancel a processing job', () => {
      given(...processingJob)
        .when({ type: 'CancelJob', reason: null })
        .then([{ type: 'JobCancelRequested', data: { reason: null } }]);
    });

    it.each([
      ['completed', completedJob],
      ['failed', failedJob],
      ['cancelled', cancelledJob],
    ])('rejects a %s job with JOB_NOT_CANCELLABLE', (_, history) => {
      given(...history)
        .when({ type: 'CancelJob', reason: null })
        .thenThrows('JOB_NOT_CANCELLABLE');
    });
  });

  describe('RetryJob', () => {
    it('redrives a failed job for maxAttempts more attempts', () => {
      // given: maxAttempts 3, failed for good (non-retryable) on attempt 2
      given(requested(3), started(1), failed(1, at(15)), started(2), failed(2, null))
        .when({ type: 'RetryJob' })
        .then([{ type: 'JobRetryRequested', data: { attemptLimit: 5 } }]);
    });

    it('counts attempts on from earlier redrives', () => {
      // given: maxAttempts 2; attempt 1 failed for good; redriven to limit 3; attempt 2 failed for good
      given(requested(2), started(1), failed(1, null), retryRequested(3), started(2), failed(2, null))
        .when({ type: 'RetryJob' })
        .then([{ type: 'JobRetryRequested', data: { attemptLimit: 4 } }]);
    });

    it('names the bulk job that redrives', () => {
      given(...failedJob)
        .when({ type: 'RetryJob', bulkJobId: BULK_JOB_ID })
        .then([{ type: 'JobRetryRequested', data: { attemptLimit: 2, bulkJobId: BULK_JOB_ID } }]);
    });

    it.each([
      ['pending', [requested()]],
      ['scheduled', scheduledJob],
      ['processing', processingJob],
      ['completed', completedJob],
      ['cancelled', cancelledJob],
      ['discarded', discardedJob],
    ])('rejects a %s job with JOB_NOT_RETRYABLE', (_, history) => {
      given(...history)
        .when({ type: 'RetryJob' })
        .thenThrows('JOB_NOT_RETRYABLE');
    });
  });

  describe('DiscardJob', () => {
    it('discards a failed job from the failure it has now', () => {
      // given: maxAttempts 2; attempt 1 failed for good; redriven to limit 3; attempt 2 failed for good
      given(requested(2), started(1), failed(1, null), retryRequested(3), started(2), failed(2, null))
        .when({ type: 'DiscardJob', reason: 'obsolete', bulkJobId: BULK_JOB_ID })
        .then([{ type: 'JobDiscarded', data: { attempt: 2, reason: 'obsolete', bulkJobId: BULK_JOB_ID } }]);
    });

    it.each([
      ['pending', [requested()]],
      ['scheduled', scheduledJob],
      ['processing', processingJob],
      ['completed', completedJob],
      ['cancelled', cancelledJob],
      ['discarded', discardedJob],
    ])('rejects a %s job with JOB_NOT_DISCARDABLE', (_, history) => {
      given(...history)
        .when({ type: 'DiscardJob', reason: null, bulkJobId: null })
        .thenThrows('JOB_NOT_DISCARDABLE');
    });
  });

  it('drives a job through failure, redrive and success when its events are folded back', () => {
    // given
    let job: Job | null = foldEvents([requested(1)]);
    const apply = (command: JobCommand) => {
      for (const e of decide(command, job, CTX)) job = evolve(job, e);
    };

    // when
    apply({ type: 'StartAttempt', attempt: 1, runnerId: 'r' });
    apply({ type: 'FailAttempt', attempt: 1, error: retryable });
    const afterFailure = job;
    apply({ type: 'RetryJob' });
    apply({ type: 'StartAttempt', attempt: 2, runnerId: 'r' });
    apply({ type: 'CompleteAttempt', attempt: 2, result: 'ok', resultUrl: null });

    // then
    expect(afterFailure).toMatchObject({ status: 'failed', attempts: 1, attemptLimit: 1 });
    expect(job).toMatchObject({ status: 'completed', attempts: 2, attemptLimit: 2, result: 'ok', error: null });
  });
});
