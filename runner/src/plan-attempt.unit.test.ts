import { DEFAULT_BACKOFF, newEvent, type Job } from '@jobline/libs';
import { aJobRequested } from '@jobline/libs/testing';
import { attemptAskedBy, planAttempt, attemptStillWanted } from './plan-attempt';

const NOW = Date.parse('2026-01-01T00:00:00.000Z');

function job(overrides: Partial<Job>): Job {
  return {
    id: 'j1',
    tenantId: 't',
    type: 'noop',
    payload: {},
    status: 'pending',
    attempts: 0,
    maxAttempts: 3,
    attemptLimit: 3,
    backoff: DEFAULT_BACKOFF,
    timeoutMs: null,
    runAt: null,
    callbackUrl: null,
    notify: null,
    metadata: {},
    idempotencyKey: null,
    priority: 5,
    progress: null,
    result: null,
    resultUrl: null,
    error: null,
    runnerId: null,
    cancelRequestedAt: null,
    deadLetteredAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    ...overrides,
  };
}

describe('planAttempt', () => {
  it('runs the first attempt of a pending job now', () => {
    expect(planAttempt(job({}), NOW)).toMatchObject({ kind: 'attempt', attempt: 1, dueAt: NOW });
  });

  it('runs the next attempt of a scheduled job at its runAt', () => {
    const scheduled = job({ status: 'scheduled', attempts: 1, runAt: '2026-01-01T00:05:00.000Z' });

    expect(planAttempt(scheduled, NOW)).toMatchObject({
      kind: 'attempt',
      attempt: 2,
      dueAt: Date.parse('2026-01-01T00:05:00.000Z'),
    });
  });

  it('runs an interrupted attempt again', () => {
    expect(planAttempt(job({ status: 'processing', attempts: 2 }), NOW)).toMatchObject({ kind: 'attempt', attempt: 2 });
  });

  it('runs an interrupted attempt again only for the message that asked for it', () => {
    const running = job({ status: 'processing', attempts: 3 });

    expect(planAttempt(running, NOW, 3)).toMatchObject({ kind: 'attempt', attempt: 3 });
    expect(planAttempt(running, NOW, 1)).toEqual({
      kind: 'skip',
      reason: 'attempt 3 runs; this message asked for attempt 1',
    });
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('does nothing for a %s job', (status) => {
    expect(planAttempt(job({ status, attempts: 1 }), NOW)).toEqual({ kind: 'skip', reason: `already ${status}` });
  });

  it('does nothing once the attempts are used up', () => {
    expect(planAttempt(job({ status: 'pending', attempts: 3, attemptLimit: 3 }), NOW)).toMatchObject({ kind: 'skip' });
  });
});

describe('attemptStillWanted', () => {
  it('fires when the projection does not know the job yet, or has not run the attempt', () => {
    expect(attemptStillWanted(2, null)).toEqual({ wanted: true });
    expect(attemptStillWanted(2, job({ status: 'scheduled', attempts: 1 }))).toEqual({ wanted: true });
  });

  it('does not fire for an attempt that already ran (a duplicated timer)', () => {
    expect(attemptStillWanted(2, job({ status: 'processing', attempts: 2 })).wanted).toBe(false);
    expect(attemptStillWanted(2, job({ status: 'scheduled', attempts: 2 })).wanted).toBe(false);
  });

  it('does not fire for a cancelled or finished job', () => {
    expect(attemptStillWanted(1, job({ status: 'cancelled' }))).toEqual({ wanted: false, reason: 'already cancelled' });
    expect(attemptStillWanted(3, job({ status: 'completed', attempts: 2 })).wanted).toBe(false);
  });

  it('lets the attempt recorded as running start again only when the work is a re-run', () => {
    const running = job({ status: 'processing', attempts: 2 });
    expect(attemptStillWanted(2, running, true)).toEqual({ wanted: true });
    expect(attemptStillWanted(2, running, false).wanted).toBe(false);
    expect(attemptStillWanted(1, running, true).wanted).toBe(false);
    expect(attemptStillWanted(2, job({ status: 'cancelled', attempts: 2 }), true).wanted).toBe(false);
  });
});

describe('attemptAskedBy', () => {
  it('is the first attempt for a request, and the first past the old limit for a redrive', () => {
    // given: maxAttempts 2, failed for good on attempt 2, redriven to limit 4
    const redriven = job({ maxAttempts: 2, attempts: 2, attemptLimit: 4 });
    const redrive = newEvent(
      'JobRetryRequested',
      { jobId: 'j1', tenantId: 't', source: 'producer', now: new Date(NOW) },
      { attemptLimit: 4 },
    );

    expect(attemptAskedBy(aJobRequested(), redriven)).toBe(1);
    expect(attemptAskedBy(redrive, redriven)).toBe(3);
  });
});
