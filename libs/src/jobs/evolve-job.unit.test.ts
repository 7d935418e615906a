import fc from 'fast-check';
import type { JobEvent, JobEventOf, JobEventType } from '../events/job-events';
import { newEvent } from '../events/new-event';
import { aJobRequested } from '../testing/job-events';
import { evolve, foldEvents, initialState } from './evolve-job';
import type { Job, JobStatus } from './job';

const JOB_ID = '0b6f3c1e-6a53-4f0e-9d2a-3b1c4e5f6a7b';
const TENANT = 'acme';
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
/** The instant `second` seconds after T0. */
const at = (second: number) => new Date(T0 + second * 1000);
const iso = (second: number) => at(second).toISOString();

// ---- event builders: `second` is when the event occurred, relative to T0 ----

function event<T extends JobEventType>(type: T, second: number, data: JobEventOf<T>['data']): JobEventOf<T> {
  return newEvent(type, { jobId: JOB_ID, tenantId: TENANT, source: 'runner', now: at(second) }, data);
}

const requested = (second = 0, data: Partial<JobEventOf<'JobRequested'>['data']> = {}) =>
  aJobRequested({
    jobId: JOB_ID,
    tenantId: TENANT,
    now: at(second),
    type: 'sleep',
    payload: { ms: 10 },
    maxAttempts: 3,
    backoff: { type: 'fixed', delayMs: 1000 },
    ...data,
  });
const started = (attempt: number, second: number, runnerId = 'runner-1') =>
  event('JobStarted', second, { attempt, runnerId });
const progressed = (attempt: number, current: number, second: number) =>
  event('JobProgressed', second, { attempt, current, total: 10, message: null });
const completed = (attempt: number, second: number, result: unknown = { ok: true }) =>
  event('JobCompleted', second, { attempt, result, resultUrl: null });
const failed = (attempt: number, second: number, nextRunAt: string | null, retryable = true) =>
  event('JobAttemptFailed', second, {
    attempt,
    error: { code: 'HANDLER_FAILED', message: `attempt ${attempt} failed`, retryable },
    nextRunAt,
  });
const deadLettered = (attempt: number, second: number) => event('JobDeadLettered', second, { attempt, error: null });
const cancelRequested = (second: number) => event('JobCancelRequested', second, { reason: 'user asked' });
const cancelled = (second: number) => event('JobCancelled', second, { reason: 'user asked' });
const retryRequested = (attemptLimit: number, second: number) => event('JobRetryRequested', second, { attemptLimit });
const discarded = (attempt: number, second: number) =>
  event('JobDiscarded', second, { attempt, reason: 'not worth it', bulkJobId: null });

/** Folds `events` and fails the test if that leaves no job. */
function given(...events: JobEvent[]): Job {
  const job = foldEvents(events);
  if (!job) throw new Error('the given events do not create a job');
  return job;
}

describe('evolve: examples', () => {
  it('starts from no job', () => {
    expect(initialState()).toBeNull();
  });

  describe('JobRequested', () => {
    it('creates a pending job from the request', () => {
      // when
      const job = evolve(null, requested(0, { metadata: { team: 'a' }, idempotencyKey: 'k1', timeoutMs: 5000 }));

      // then
      expect(job).toEqual<Job>({
        id: JOB_ID,
        tenantId: TENANT,
        type: 'sleep',
        payload: { ms: 10 },
        status: 'pending',
        attempts: 0,
        maxAttempts: 3,
        attemptLimit: 3,
        backoff: { type: 'fixed', delayMs: 1000 },
        timeoutMs: 5000,
        runAt: null,
        callbackUrl: null,
        notify: null,
        metadata: { team: 'a' },
        idempotencyKey: 'k1',
        priority: 5,
        progress: null,
        result: null,
        resultUrl: null,
        error: null,
        runnerId: null,
        cancelRequestedAt: null,
        deadLetteredAt: null,
        createdAt: iso(0),
        updatedAt: iso(0),
        startedAt: null,
        finishedAt: null,
      });
    });

    it('creates a scheduled job when runAt is after occurredAt', () => {
      expect(evolve(null, requested(0, { runAt: iso(60) }))).toMatchObject({ status: 'scheduled', runAt: iso(60) });
    });

    it('creates a pending job when runAt is not after occurredAt', () => {
      expect(evolve(null, requested(10, { runAt: iso(10) }))?.status).toBe('pending');
      expect(evolve(null, requested(10, { runAt: iso(5) }))?.status).toBe('pending');
    });

    it('creates a scheduled job when a future runAt is written with a UTC offset', () => {
      // given: occurredAt 2026-01-01T00:00Z; runAt 2025-12-31T23:00-05:00 = 2026-01-01T04:00Z
      const request = requested(0, { runAt: '2025-12-31T23:00:00-05:00' });

      expect(evolve(null, request)?.status).toBe('scheduled');
    });

    it('ignores a second JobRequested for an existing job', () => {
      const job = given(requested(0), started(1, 1));

      expect(evolve(job, requested(2, { type: 'noop' }))).toBe(job);
    });
  });

  describe('JobStarted', () => {
    it('moves a pending job to processing with the attempt number and runner', () => {
      const job = given(requested(0));

      expect(evolve(job, started(1, 5, 'runner-7'))).toMatchObject({
        status: 'processing',
        attempts: 1,
        runnerId: 'runner-7',
        startedAt: iso(5),
        updatedAt: iso(5),
      });
    });

    it('starts the next attempt of a scheduled job and clears the previous progress', () => {
      const job = given(requested(0), started(1, 1), progressed(1, 4, 2), failed(1, 3, iso(30)));

      expect(evolve(job, started(2, 30))).toMatchObject({ status: 'processing', attempts: 2, progress: null });
    });

    it('ignores a start of an attempt that is already over', () => {
      const job = given(requested(0), started(1, 1), failed(1, 2, iso(30)));

      expect(evolve(job, started(1, 3))).toBe(job);
    });

    it('ignores a replayed start of the running attempt once the attempt has made progress', () => {
      // given
      const start = started(1, 1);
      const job = given(requested(0), start, progressed(1, 5, 2));

      // when: the start is replayed
      const replayed = evolve(job, start);

      // then
      expect(replayed).toEqual(job);
    });

    it('restarts the running attempt when another runner starts it later (its first runner stopped)', () => {
      const job = given(requested(0), started(1, 1, 'runner-a'), progressed(1, 5, 2));

      expect(evolve(job, started(1, 9, 'runner-b'))).toMatchObject({
        status: 'processing',
        attempts: 1,
        runnerId: 'runner-b',
        progress: null,
        startedAt: iso(9),
      });
    });
  });

  describe('JobProgressed', () => {
    it('records progress of the running attempt', () => {
      const job = given(requested(0), started(1, 1));

      expect(evolve(job, progressed(1, 3, 2))).toMatchObject({
        progress: { current: 3, total: 10, message: null },
        updatedAt: iso(2),
      });
    });

    it.each<[string, JobEvent[], JobEvent]>([
      ['a pending job', [requested(0)], progressed(1, 1, 5)],
      [
        'a scheduled job, for the failed attempt',
        [requested(0), started(1, 1), failed(1, 2, iso(30))],
        progressed(1, 1, 5),
      ],
      [
        'a running attempt 2, for attempt 1',
        [requested(0), started(1, 1), failed(1, 2, iso(3)), started(2, 3)],
        progressed(1, 1, 5),
      ],
      ['a running attempt 1, for attempt 2', [requested(0), started(1, 1)], progressed(2, 1, 5)],
      ['a completed job', [requested(0), started(1, 1), completed(1, 2)], progressed(1, 1, 5)],
    ])('ignores progress of %s', (_, history, progress) => {
      const job = given(...history);

      expect(evolve(job, progress)).toBe(job);
    });

    it('ignores a replayed older progress event of the running attempt', () => {
      const early = progressed(1, 2, 2);
      const job = given(requested(0), started(1, 1), early, progressed(1, 7, 3));

      expect(evolve(job, early)).toEqual(job);
    });
  });

  describe('JobCompleted', () => {
    it('completes the running attempt with its result', () => {
      const job = given(requested(0), started(1, 1), progressed(1, 5, 2));

      expect(evolve(job, completed(1, 4, { bytes: 42 }))).toMatchObject({
        status: 'completed',
        attempts: 1,
        result: { bytes: 42 },
        resultUrl: null,
        error: null,
        finishedAt: iso(4),
        updatedAt: iso(4),
      });
    });

    it('clears the error of an earlier failed attempt', () => {
      const job = given(requested(0), started(1, 1), failed(1, 2, iso(3)), started(2, 3));

      expect(evolve(job, completed(2, 4))).toMatchObject({ status: 'completed', attempts: 2, error: null });
    });

    it('ignores the completion of an attempt older than the current one', () => {
      const job = given(requested(0), started(1, 1), failed(1, 2, iso(3)), started(2, 3));

      expect(evolve(job, completed(1, 4))).toBe(job);
    });
  });

  describe('JobAttemptFailed', () => {
    it('schedules a retry at nextRunAt when one is given', () => {
      const job = given(requested(0), started(1, 1));

      expect(evolve(job, failed(1, 2, iso(32)))).toMatchObject({
        status: 'scheduled',
        attempts: 1,
        runAt: iso(32),
        error: { code: 'HANDLER_FAILED', message: 'attempt 1 failed', retryable: true },
        finishedAt: null,
        updatedAt: iso(2),
      });
    });

    it('fails the job for good when no nextRunAt is given', () => {
      const job = given(requested(0, { runAt: iso(0) }), started(1, 1));

      expect(evolve(job, failed(1, 2, null, false))).toMatchObject({
        status: 'failed',
        attempts: 1,
        runAt: iso(0),
        error: { code: 'HANDLER_FAILED', retryable: false },
        finishedAt: iso(2),
      });
    });

    it('ignores a failure of an attempt that already failed', () => {
      const job = given(requested(0), started(1, 1), failed(1, 2, iso(30)));

      expect(evolve(job, failed(1, 3, null))).toBe(job);
    });
  });

  describe('cancellation', () => {
    it('records a cancel request on a running job without changing its status', () => {
      const job = given(requested(0), started(1, 1));

      expect(evolve(job, cancelRequested(2))).toMatchObject({
        status: 'processing',
        cancelRequestedAt: iso(2),
        updatedAt: iso(2),
      });
    });

    it('keeps the first cancel request', () => {
      const job = given(requested(0), started(1, 1), cancelRequested(2));

      expect(evolve(job, cancelRequested(3))).toBe(job);
    });

    it('cancels a running job after its cancel request, keeping when it was requested', () => {
      const job = given(requested(0), started(1, 1), cancelRequested(2));

      expect(evolve(job, cancelled(3))).toMatchObject({
        status: 'cancelled',
        cancelRequestedAt: iso(2),
        finishedAt: iso(3),
        updatedAt: iso(3),
      });
    });

    it.each<[string, JobEvent[]]>([
      ['pending', [requested(0)]],
      ['scheduled', [requested(0, { runAt: iso(60) })]],
    ])('cancels a %s job directly', (_, history) => {
      const job = given(...history);

      expect(evolve(job, cancelled(5))).toMatchObject({
        status: 'cancelled',
        cancelRequestedAt: iso(5),
        finishedAt: iso(5),
      });
    });
  });

  describe('JobRetryRequested', () => {
    it('moves a failed job back to pending and raises its attempt limit', () => {
      // given: a job that failed for good on attempt 3 of 3, and was dead-lettered
      const job = given(
        requested(0, { runAt: iso(0) }),
        started(1, 1),
        failed(1, 2, iso(3)),
        started(2, 3),
        failed(2, 4, iso(5)),
        started(3, 5),
        failed(3, 6, null),
        deadLettered(3, 7),
      );

      // when
      const redriven = evolve(job, retryRequested(6, 8));

      // then
      expect(redriven).toMatchObject({
        status: 'pending',
        attempts: 3,
        maxAttempts: 3,
        attemptLimit: 6,
        error: null,
        runAt: null,
        deadLetteredAt: null,
        finishedAt: null,
        updatedAt: iso(8),
      });
    });

    it('lets a redriven job run its next attempts', () => {
      const job = given(requested(0, { maxAttempts: 1 }), started(1, 1), failed(1, 2, null), retryRequested(2, 3));

      expect(evolve(job, started(2, 4))).toMatchObject({ status: 'processing', attempts: 2, attemptLimit: 2 });
    });

    it.each<[string, JobEvent[]]>([
      ['pending', [requested(0)]],
      ['scheduled', [requested(0), started(1, 1), failed(1, 2, iso(30))]],
      ['processing', [requested(0), started(1, 1)]],
      ['completed', [requested(0), started(1, 1), completed(1, 2)]],
      ['cancelled', [requested(0), cancelled(1)]],
    ])('ignores a retry request for a %s job', (_, history) => {
      const job = given(...history);

      expect(evolve(job, retryRequested(10, 9))).toBe(job);
    });

    it('ignores a retry request that does not raise the attempt limit', () => {
      const job = given(requested(0, { maxAttempts: 2 }), started(1, 1), failed(1, 2, null, false));

      expect(evolve(job, retryRequested(2, 3))).toBe(job);
      expect(evolve(job, retryRequested(1, 3))).toBe(job);
    });
  });

  describe('JobDeadLettered', () => {
    it('marks a failed job as dead-lettered once', () => {
      const job = given(requested(0, { maxAttempts: 1 }), started(1, 1), failed(1, 2, null));

      const marked = evolve(job, deadLettered(1, 3));

      expect(marked).toMatchObject({ status: 'failed', deadLetteredAt: iso(3) });
      expect(evolve(marked, deadLettered(1, 4))).toBe(marked);
    });

    it('ignores a replayed dead-letter event of an earlier run after a redrive', () => {
      const deadLetter = deadLettered(1, 3);
      const job = given(
        requested(0, { maxAttempts: 1 }),
        started(1, 1),
        failed(1, 2, null),
        deadLetter,
        retryRequested(2, 4),
      );

      expect(evolve(job, deadLetter)).toEqual(job);
    });
  });

  describe('JobDiscarded', () => {
    const deadLetter = [requested(0, { maxAttempts: 1 }), started(1, 1), failed(1, 2, null), deadLettered(1, 3)];

    it('sets a failed job aside for good, keeping when it failed, its error and its dead-letter mark', () => {
      const job = given(...deadLetter);

      const set = evolve(job, discarded(1, 9));

      expect(set).toMatchObject({
        status: 'discarded',
        attempts: 1,
        error: job.error,
        deadLetteredAt: iso(3),
        finishedAt: iso(2),
        updatedAt: iso(9),
      });
      expect(evolve(set, discarded(1, 10))).toBe(set);
    });

    it('ignores a discard decided on an earlier failure, read after a redrive and a new failure', () => {
      const job = given(...deadLetter, retryRequested(2, 4), started(2, 5), failed(2, 6, null), deadLettered(2, 7));

      expect(evolve(job, discarded(1, 8))).toBe(job);
    });

    it.each<[string, JobEvent[]]>([
      ['pending', [requested(0)]],
      ['processing', [requested(0), started(1, 1)]],
      ['redriven', [...deadLetter, retryRequested(2, 4)]],
      ['completed', [requested(0), started(1, 1), completed(1, 2)]],
      ['cancelled', [requested(0), cancelled(1)]],
    ])('ignores a discard of a %s job', (_, history) => {
      const job = given(...history);

      expect(evolve(job, discarded(job.attempts, 9))).toBe(job);
    });

    it('cannot be redriven any more', () => {
      const job = given(...deadLetter, discarded(1, 4));

      expect(evolve(job, retryRequested(2, 5))).toBe(job);
    });
  });

  describe('terminal states', () => {
    const terminal: [JobStatus, JobEvent[]][] = [
      ['completed', [requested(0), started(1, 1), completed(1, 2)]],
      ['failed', [requested(0, { maxAttempts: 1 }), started(1, 1), failed(1, 2, null)]],
      ['cancelled', [requested(0), started(1, 1), cancelRequested(2), cancelled(3)]],
      ['discarded', [requested(0, { maxAttempts: 1 }), started(1, 1), failed(1, 2, null), discarded(1, 3)]],
    ];
    const later: [string, JobEvent][] = [
      ['a new JobRequested', requested(10)],
      ['a start of its last attempt', started(1, 10)],
      ['a start of a new attempt', started(2, 10)],
      ['progress of its last attempt', progressed(1, 9, 10)],
      ['progress of a new attempt', progressed(2, 9, 10)],
      ['a completion of its last attempt', completed(1, 10)],
      ['a completion of a new attempt', completed(2, 10)],
      ['a retryable failure of its last attempt', failed(1, 10, iso(20))],
      ['a final failure of a new attempt', failed(2, 10, null)],
      ['a cancel request', cancelRequested(10)],
      ['a cancellation', cancelled(10)],
    ];
    const cases = terminal.flatMap(([status, history]) =>
      later.map(([label, e]) => [status, label, history, e] as const),
    );

    it.each(cases)('a %s job ignores %s', (status, _, history, e) => {
      const job = given(...history);
      expect(job.status).toBe(status);

      expect(evolve(job, e)).toBe(job);
    });
  });

  it.each<JobEvent>([
    started(1, 1),
    progressed(1, 1, 1),
    completed(1, 1),
    failed(1, 1, null),
    deadLettered(1, 1),
    cancelRequested(1),
    cancelled(1),
    retryRequested(5, 1),
    discarded(1, 1),
  ])('leaves an unknown job unknown on $type', (e) => {
    expect(evolve(null, e)).toBeNull();
    expect(foldEvents([e])).toBeNull();
  });

  it('folds from a given state', () => {
    const job = given(requested(0), started(1, 1));

    expect(foldEvents([progressed(1, 2, 2), completed(1, 3)], job)).toEqual(
      given(requested(0), started(1, 1), progressed(1, 2, 2), completed(1, 3)),
    );
  });
});

// ---- a model of valid job histories, for the properties ----

/** One decision of the model. What it means depends on where the job is (see `simulate`). */
interface Step {
  /** While the job waits: run an attempt, or cancel it before it starts. */
  kind: 'attempt' | 'cancel';
  progressEvents: number;
  /** A cancel request arrives while the attempt runs (it may still complete or fail). */
  cancelRequest: boolean;
  outcome: 'complete' | 'fail' | 'cancelled';
  retryable: boolean;
  /** After a final failure: redrive the job, discard it, or leave it failed (the history ends). */
  afterFailure: 'redrive' | 'discard' | 'leave';
}

interface Plan {
  maxAttempts: number;
  /** runAt relative to the request, in seconds; null for none. */
  runAtSeconds: number | null;
  steps: Step[];
}

interface Expected {
  status: JobStatus;
  attempts: number;
  attemptLimit: number;
}

/** Weighted so that histories often reach a final failure, a redrive and further attempts after it. */
const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.oneof({ arbitrary: fc.constant('attempt' as const), weight: 7 }, fc.constant('cancel' as const)),
  progressEvents: fc.nat({ max: 3 }),
  cancelRequest: fc.boolean(),
  outcome: fc.oneof(
    { arbitrary: fc.constant('complete' as const), weight: 2 },
    { arbitrary: fc.constant('fail' as const), weight: 6 },
    { arbitrary: fc.constant('cancelled' as const), weight: 1 },
  ),
  retryable: fc.boolean(),
  afterFailure: fc.oneof(
    { arbitrary: fc.constant('redrive' as const), weight: 3 },
    fc.constant('discard' as const),
    fc.constant('leave' as const),
  ),
});

const planArb: fc.Arbitrary<Plan> = fc.record({
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  runAtSeconds: fc.option(fc.integer({ min: -60, max: 60 })),
  steps: fc.array(stepArb, { maxLength: 10 }),
});

/**
 * Turns a plan into the events a job would see, as the producer and runner emit them (attempt numbers keep counting
 * across redrives, a redrive allows `maxAttempts` more attempts), with the status the job must have after each event.
 */
function simulate(plan: Plan): { events: JobEvent[]; expected: Expected[] } {
  const events: JobEvent[] = [];
  const expected: Expected[] = [];
  let clock = 0;
  let status = (plan.runAtSeconds !== null && plan.runAtSeconds > 0 ? 'scheduled' : 'pending') as JobStatus;
  let attempt = 0;
  let attemptLimit = plan.maxAttempts;
  const emit = (e: JobEvent, next: JobStatus) => {
    status = next;
    events.push(e);
    expected.push({ status, attempts: attempt, attemptLimit });
  };
  const tick = () => ++clock;

  emit(
    requested(0, {
      maxAttempts: plan.maxAttempts,
      runAt: plan.runAtSeconds === null ? null : iso(plan.runAtSeconds),
    }),
    status,
  );
  for (const step of plan.steps) {
    if (status === 'completed' || status === 'cancelled' || status === 'discarded') break;
    if (status === 'failed') {
      if (step.afterFailure === 'leave') break;
      if (step.afterFailure === 'discard') {
        emit(discarded(attempt, tick()), 'discarded');
        break;
      }
      attemptLimit = attempt + plan.maxAttempts;
      emit(retryRequested(attemptLimit, tick()), 'pending');
      continue;
    }
    if (step.kind === 'cancel') {
      emit(cancelled(tick()), 'cancelled');
      break;
    }
    attempt += 1;
    emit(started(attempt, tick()), 'processing');
    for (let i = 1; i <= step.progressEvents; i++) emit(progressed(attempt, i, tick()), 'processing');
    if (step.cancelRequest || step.outcome === 'cancelled') emit(cancelRequested(tick()), 'processing');
    if (step.outcome === 'complete') {
      emit(completed(attempt, tick()), 'completed');
    } else if (step.outcome === 'cancelled') {
      emit(cancelled(tick()), 'cancelled');
    } else {
      const retry = step.retryable && attempt < attemptLimit;
      const now = tick();
      emit(failed(attempt, now, retry ? iso(now + 30) : null, step.retryable), retry ? 'scheduled' : 'failed');
    }
  }
  return { events, expected };
}

/** A complete valid history: the simulated events of a plan. */
const fullHistoryArb = planArb.map((plan) => withReadableString(simulate(plan)));

/** A complete valid history cut anywhere after the request: the job may be mid-flight. */
const cutHistoryArb = fc.tuple(fullHistoryArb, fc.nat()).map(([{ events, expected }, cut]) => {
  const length = 1 + (cut % events.length);
  return withReadableString({ events: events.slice(0, length), expected: expected.slice(0, length) });
});

/** A valid history, complete or still in flight. */
const historyArb = fc.oneof(fullHistoryArb, cutHistoryArb);

/** Counterexamples print as one line per event rather than as full envelopes. */
function withReadableString<H extends { events: JobEvent[] }>(history: H): H {
  const lines = () => history.events.map((e) => `${e.type} ${JSON.stringify(e.data)}`).join('\n');
  return Object.assign(history, { [fc.toStringMethod]: lines });
}

const TERMINAL_EVENT: Partial<Record<JobEventType, (e: JobEvent) => JobStatus | null>> = {
  JobCompleted: () => 'completed',
  JobCancelled: () => 'cancelled',
  JobDiscarded: () => 'discarded',
  JobAttemptFailed: (e) => (e.type === 'JobAttemptFailed' && e.data.nextRunAt === null ? 'failed' : null),
};

describe('evolve: properties of valid histories', () => {
  const runs = { numRuns: 300 };

  it('agrees with the model on status, attempts and attempt limit after every event', () => {
    fc.assert(
      fc.property(historyArb, ({ events, expected }) => {
        let job: Job | null = null;
        events.forEach((e, i) => {
          job = evolve(job, e);
          expect(job).toMatchObject(expected[i]!);
        });
      }),
      runs,
    );
  });

  it('(a) gives the same state when any one event is applied twice in a row', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), ({ events }, n) => {
        const i = n % events.length;
        const withDuplicate = [...events.slice(0, i + 1), events[i]!, ...events.slice(i + 1)];

        expect(foldEvents(withDuplicate)).toEqual(foldEvents(events));
      }),
      runs,
    );
  });

  it('(b) is unchanged by replaying any prefix of its history, also while an attempt is running', () => {
    fc.assert(
      fc.property(historyArb, fc.nat(), ({ events }, n) => {
        const job = foldEvents(events);
        const prefix = events.slice(0, n % (events.length + 1));

        expect(foldEvents(prefix, job)).toEqual(job);
      }),
      { numRuns: 1000 },
    );
  });

  it('(c) ends in exactly the terminal status of its last event', () => {
    fc.assert(
      fc.property(fullHistoryArb, ({ events }) => {
        const last = events.at(-1)!;
        const status = TERMINAL_EVENT[last.type]?.(last) ?? null;
        fc.pre(status !== null);

        expect(foldEvents(events)?.status).toBe(status);
      }),
      runs,
    );
  });
});
