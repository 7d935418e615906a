import { randomUUID } from 'node:crypto';
import { newEvent, type JobEvent } from '@jobline/libs';
import { aJobRequested } from '@jobline/libs/testing';
import { JobStates } from './job-states';

const NOW = new Date('2026-01-01T00:00:00Z');

const requested = (): JobEvent => aJobRequested({ now: NOW });

const ctx = (jobId: string) => ({ jobId, tenantId: 'acme', source: 'runner' as const, now: NOW });
const started = (jobId: string) => newEvent('JobStarted', ctx(jobId), { attempt: 1, runnerId: 'r' });
const completed = (jobId: string) =>
  newEvent('JobCompleted', ctx(jobId), { attempt: 1, result: null, resultUrl: null });
const cancelled = (jobId: string) => newEvent('JobCancelled', ctx(jobId), { reason: null });

describe('JobStates', () => {
  it('folds the events it reads into each job latest state', () => {
    const states = new JobStates();
    const job = requested();
    expect(states.apply(0, 10, job)?.status).toBe('pending');
    expect(states.apply(0, 11, started(job.jobId))).toMatchObject({ status: 'processing', attempts: 1 });
    expect(states.apply(0, 12, completed(job.jobId))?.status).toBe('completed');
    expect(states.get(job.jobId)?.status).toBe('completed');
  });

  it('knows nothing of a job whose request it did not read', () => {
    const states = new JobStates();
    const jobId = randomUUID();
    expect(states.apply(0, 5, started(jobId))).toBeUndefined();
    expect(states.get(jobId)).toBeUndefined();
  });

  it('ignores events at or before the last one applied, as when a partition is read again', () => {
    const states = new JobStates();
    const job = requested();
    states.apply(1, 3, job);
    states.apply(1, 4, cancelled(job.jobId));
    // Read again from offset 3 after a rebalance: the request does not bring the job back to pending.
    expect(states.apply(1, 3, job)?.status).toBe('cancelled');
    expect(states.apply(1, 4, cancelled(job.jobId))?.status).toBe('cancelled');
  });

  it('forgets the jobs of partitions it no longer holds', () => {
    const states = new JobStates();
    const kept = requested();
    const moved = requested();
    states.apply(0, 1, kept);
    states.apply(2, 1, moved);
    states.retainPartitions([0, 1]);
    expect(states.get(kept.jobId)).toBeDefined();
    expect(states.get(moved.jobId)).toBeUndefined();
  });

  it('keeps a bounded number of finished jobs, forgetting the oldest first, and every live one', () => {
    const states = new JobStates(2);
    const live = requested();
    states.apply(0, 0, live);
    const finished = Array.from({ length: 3 }, () => requested());
    finished.forEach((job, i) => {
      states.apply(0, 10 * i + 1, job);
      states.apply(0, 10 * i + 2, cancelled(job.jobId));
    });
    expect(states.get(finished[0]!.jobId)).toBeUndefined();
    expect(states.get(finished[1]!.jobId)?.status).toBe('cancelled');
    expect(states.get(finished[2]!.jobId)?.status).toBe('cancelled');
    expect(states.get(live.jobId)?.status).toBe('pending');
    expect(states.size).toBe(3);
  });
});
