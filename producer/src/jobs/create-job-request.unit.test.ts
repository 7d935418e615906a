import fc from 'fast-check';
import { DEFAULT_BACKOFF, isJoblineError, parseOutboundAllowList } from '@jobline/libs';
import {
  DEFAULT_MAX_ATTEMPTS,
  MAX_PAYLOAD_DEPTH,
  jobRequestedEvent,
  measureJson,
  parseCreateJob,
  parseCreateJobBatch,
} from './create-job-request';

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
    [
      'a callbackUrl not written as a URI',
      { type: 'noop', callbackUrl: 'https://hooks.example.com/ªi' },
      ['callbackUrl'],
    ],
  ])('rejects %s, naming the field', (_, body, fields) => {
    expect(issuesOf(body)).toEqual(fields);
  });
});

describe('creating a batch of job requests', () => {
  const batchIssuesOf = (body: unknown, maxJobs = 3) => fieldsRejectedBy(() => parseCreateJobBatch(body, maxJobs));

  it('parses each job as a single create would, in request order', () => {
    const jobs = [{ type: 'noop' }, { type: 'sleep', payload: { ms: 5 }, delayMs: 1000 }];

    expect(parseCreateJobBatch({ jobs }, 3)).toEqual(jobs.map((job) => parseCreateJob(job)));
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

describe('bounds of a payload', () => {
  const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

  it('measures what JSON.stringify would write, in UTF-8 bytes, and how deep it nests', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(measureJson(value).bytes).toBe(Buffer.byteLength(JSON.stringify(value)));
      }),
    );
    expect(measureJson({ a: [1, { b: 'é' }] })).toEqual({ bytes: 20, depth: 3 });
    expect(measureJson(7)).toEqual({ bytes: 1, depth: 0 });
  });

  it('measures nesting far deeper than the call stack allows', () => {
    expect(measureJson(nested(200_000))).toEqual({ bytes: 400_000, depth: 200_000 });
  });

  it('rejects a payload larger than the limit, or nested deeper than allowed, naming the payload', () => {
    const limits = { maxPayloadBytes: 1024 };
    const deep = { a: nested(MAX_PAYLOAD_DEPTH) };

    expect(fieldsRejectedBy(() => parseCreateJob({ type: 'noop', payload: { a: 'x'.repeat(1024) } }, limits))).toEqual([
      'payload',
    ]);
    expect(fieldsRejectedBy(() => parseCreateJob({ type: 'noop', payload: deep }, limits))).toEqual(['payload']);
    expect(fieldsRejectedBy(() => parseCreateJob({ type: 'sleep', payload: { ms: 1 } }, limits))).toEqual([]);
    expect(
      fieldsRejectedBy(() => parseCreateJobBatch({ jobs: [{ type: 'noop' }, { type: 'noop', payload: deep }] }, 3)),
    ).toEqual(['jobs.1.payload']);
  });
});

describe('an http job request', () => {
  const http = (payload: unknown, limits?: Parameters<typeof parseCreateJob>[1]) =>
    fieldsRejectedBy(() => parseCreateJob({ type: 'http', payload }, limits));

  it('accepts a public URL', () => {
    expect(http({ url: 'https://hooks.example.com/x', body: { a: 1 } })).toEqual([]);
  });

  it.each([
    ['a private address', 'http://10.0.0.1/hook', 'private'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data', 'metadata'],
    ['loopback', 'http://127.0.0.1:8080/', 'loopback'],
    ['a localhost name', 'http://localhost./x', 'loopback'],
    ['credentials in the URL', 'https://user:pass@hooks.example.com/x', 'credentials'],
    ['characters a URI does not have', 'https://hooks.example.com/a b', 'invalid_format'],
  ])('refuses %s in payload.url at the edge', (_name, url, code) => {
    let issues: { field: string; code: string }[] = [];
    try {
      parseCreateJob({ type: 'http', payload: { url } });
    } catch (err) {
      if (isJoblineError(err)) issues = err.details;
    }
    expect(issues).toEqual([expect.objectContaining({ field: 'payload.url', code })]);
  });

  it('accepts loopback in payload.url when the allow-list admits it', () => {
    const limits = { maxPayloadBytes: 262_144, outboundAllowList: parseOutboundAllowList('127.0.0.1/32') };
    expect(http({ url: 'http://127.0.0.1:8080/' }, limits)).toEqual([]);
  });

  it('names fields of a batch job by index', () => {
    expect(
      fieldsRejectedBy(() =>
        parseCreateJobBatch({ jobs: [{ type: 'noop' }, { type: 'http', payload: { url: 'http://10.1.1.1/' } }] }, 3),
      ),
    ).toEqual(['jobs.1.payload.url']);
  });
});

describe('metadata', () => {
  it('may not use the keys jobline reserves for itself', () => {
    expect(issuesOf({ type: 'noop', metadata: { 'jobline-timer': 'x', team: 'red' } })).toEqual([
      'metadata.jobline-timer',
    ]);
    expect(issuesOf({ type: 'noop', metadata: { jobline: 'x', 'x-jobline-timer': 'y' } })).toEqual([]);
  });
});
