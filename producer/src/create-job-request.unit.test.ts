import { DEFAULT_BACKOFF, isJoblineError } from '@jobline/libs';
import { DEFAULT_MAX_ATTEMPTS, jobRequestedEvent, parseCreateJob, parseCreateJobBatch } from './create-job-request';

const NOW = new Date('2026-06-01T12:00:00.000Z');

/** The fields that `parse` rejects, by name. */
function fieldsRejectedBy(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    if (isJoblineError(err)) return err.details.map((d) => d.field);
    throw err;
  }
  return [];
}

const issuesOf = (body: unknown) => fieldsRejectedBy(() => parseCreateJob(body));

describe('creating a job request', () => {
  it('gives a job three attempts, the default backoff, no timeout and no schedule unless asked', () => {
    const event = jobRequestedEvent(parseCreateJob({ type: 'noop' }), 'acme', NOW);

    expect(event.data).toMatchObject({
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      runAt: null,
    });
    expect(DEFAULT_MAX_ATTEMPTS).toBe(3);
  });

  it('turns delayMs into a runAt from now, and keeps an explicit runAt', () => {
    const delayed = jobRequestedEvent(parseCreateJob({ type: 'noop', delayMs: 90_000 }), 'acme', NOW);
    const at = jobRequestedEvent(parseCreateJob({ type: 'noop', runAt: '2026-06-02T00:00:00+02:00' }), 'acme', NOW);

    expect(delayed.data.runAt).toBe('2026-06-01T12:01:30.000Z');
    expect(at.data.runAt).toBe('2026-06-01T22:00:00.000Z');
  });

  it('carries the retry settings it was given', () => {
    const request = parseCreateJob({
      type: 'sleep',
      payload: { ms: 1, failAttempts: 1, fail: 'fatal' },
      maxAttempts: 5,
      backoff: { type: 'fixed', delayMs: 250 },
      timeoutMs: 1000,
    });

    expect(jobRequestedEvent(request, 'acme', NOW).data).toMatchObject({
      maxAttempts: 5,
      backoff: { type: 'fixed', delayMs: 250 },
      timeoutMs: 1000,
      payload: { ms: 1, failAttempts: 1, fail: 'fatal' },
    });
  });

  it.each([
    ['no attempts', { type: 'noop', maxAttempts: 0 }, ['maxAttempts']],
    ['too many attempts', { type: 'noop', maxAttempts: 26 }, ['maxAttempts']],
    ['both runAt and delayMs', { type: 'noop', runAt: '2026-06-02T00:00:00Z', delayMs: 5 }, ['delayMs']],
    ['a runAt without offset', { type: 'noop', runAt: '2026-06-02 00:00' }, ['runAt']],
    ['a runAt more than a year ahead', { type: 'noop', runAt: '2099-01-01T00:00:00Z' }, ['runAt']],
    ['an unknown backoff type', { type: 'noop', backoff: { type: 'linear', delayMs: 5 } }, ['backoff.type']],
    ['an unknown sleep failure', { type: 'sleep', payload: { ms: 1, fail: 'sometimes' } }, ['payload.fail']],
  ])('rejects %s, naming the field', (_, body, fields) => {
    expect(issuesOf(body)).toEqual(fields);
  });
});

describe('creating a batch of job requests', () => {
  const batchIssuesOf = (body: unknown, maxJobs = 3) => fieldsRejectedBy(() => parseCreateJobBatch(body, maxJobs));

  it('parses each job as a single create would, in request order', () => {
    const jobs = [{ type: 'noop' }, { type: 'sleep', payload: { ms: 5 }, delayMs: 1000 }];

    expect(parseCreateJobBatch({ jobs }, 3)).toEqual(jobs.map(parseCreateJob));
  });

  it('names every invalid job by its index, whatever stage its validation fails at', () => {
    const body = {
      jobs: [
        { type: 'noop' },
        { type: 'teleport' },
        { type: 'sleep', payload: { ms: -1 } },
        { type: 'noop', colour: 'red' },
        { type: 'noop', runAt: '2099-01-01T00:00:00Z' },
      ],
    };

    expect(batchIssuesOf(body, 5)).toEqual(['jobs.1.type', 'jobs.2.payload.ms', 'jobs.3', 'jobs.4.runAt']);
  });

  it('says how many jobs are invalid', () => {
    expect(() => parseCreateJobBatch({ jobs: [{ type: 'noop' }, { type: 'teleport' }] }, 3)).toThrow(
      '1 of the 2 jobs are invalid',
    );
  });

  it.each([
    ['an empty list', { jobs: [] }, ['jobs']],
    ['more jobs than the maximum', { jobs: Array(4).fill({ type: 'noop' }) }, ['jobs']],
    ['no list', {}, ['jobs']],
    ['no body', undefined, ['jobs']],
    ['a list that is not an array', { jobs: { type: 'noop' } }, ['jobs']],
    ['a field beside the list', { jobs: [{ type: 'noop' }], priority: 1 }, ['(body)']],
  ])('rejects %s', (_, body, fields) => {
    expect(batchIssuesOf(body)).toEqual(fields);
  });
});
