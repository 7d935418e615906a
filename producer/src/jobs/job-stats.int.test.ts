import {
  connectMongo,
  ensureIndexes,
  joblineCollections,
  type JobDocument,
  type JobStatus,
  type JoblineCollections,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { randomUUID } from 'node:crypto';
import { parseStatsWindow, readJobStats } from './job-stats';

const minute = (m: number, s = 0) => new Date(Date.UTC(2026, 0, 1, 12, m, s));

/** A projected job with only what the figures read set to the case's values. */
function job(
  tenantId: string,
  type: string,
  status: JobStatus,
  finishedAt: Date | null,
  errorCode: string | null = null,
  runnerId: string | null = status === 'processing' ? 'runner-a' : null,
): JobDocument {
  const id = randomUUID();
  return {
    _id: id,
    id,
    tenantId,
    type,
    payload: {},
    status,
    attempts: 1,
    maxAttempts: 1,
    attemptLimit: 1,
    backoff: { type: 'fixed', delayMs: 0 },
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
    error: errorCode ? { code: errorCode, message: 'it broke', retryable: false } : null,
    runnerId,
    cancelRequestedAt: null,
    deadLetteredAt: null,
    createdAt: minute(0).toISOString(),
    updatedAt: minute(0).toISOString(),
    startedAt: null,
    finishedAt: finishedAt?.toISOString() ?? null,
    position: { partition: 0, offset: 0 },
  };
}

describe('job figures from the jobs projection', () => {
  const ns = testNamespace();
  let mongo: MongoConnection;
  let collections: JoblineCollections;

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    collections = joblineCollections(mongo.db);
    await ensureIndexes(collections);
    await collections.jobs.insertMany([
      // Open work and dead letters, counted whatever their age.
      job('t', 'sleep', 'pending', null),
      job('t', 'sleep', 'pending', null),
      job('t', 'http', 'scheduled', null),
      job('t', 'http', 'processing', null),
      job('t', 'sleep', 'processing', null, null, 'runner-b'),
      job('t', 'sleep', 'processing', null, null, 'runner-b'),
      job('t', 'http', 'failed', minute(-90), 'OUTBOUND_TIMEOUT'),
      job('t', 'http', 'failed', minute(5, 10), 'OUTBOUND_TIMEOUT'),
      job('t', 'sleep', 'failed', minute(6), 'HANDLER_FAILED'),
      // Finished in the window [12:00, 12:10): two per minute bucket 0, one in bucket 5, one in bucket 9.
      job('t', 'sleep', 'completed', minute(0, 0)),
      job('t', 'sleep', 'completed', minute(0, 59)),
      job('t', 'http', 'cancelled', minute(9, 30)),
      // Outside the window, or another tenant's: not counted.
      job('t', 'sleep', 'completed', minute(-1)),
      job('t', 'sleep', 'completed', minute(10)),
      job('other', 'sleep', 'completed', minute(1)),
      job('other', 'sleep', 'failed', minute(1), 'HANDLER_FAILED'),
    ]);
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  it('counts open jobs and dead letters whole, and finished jobs per bucket of the window', async () => {
    const stats = await readJobStats(collections.jobs, 't', { since: minute(0), until: minute(10), bucketMs: 60_000 });

    expect(stats.current).toEqual([
      { type: 'http', status: 'scheduled', count: 1 },
      { type: 'http', status: 'processing', count: 1 },
      { type: 'http', status: 'failed', count: 2 },
      { type: 'sleep', status: 'pending', count: 2 },
      { type: 'sleep', status: 'processing', count: 2 },
      { type: 'sleep', status: 'failed', count: 1 },
    ]);
    expect(stats.runners).toEqual([
      { runnerId: 'runner-b', processing: 2 },
      { runnerId: 'runner-a', processing: 1 },
    ]);
    expect(stats.deadLetters).toEqual([
      { type: 'http', code: 'OUTBOUND_TIMEOUT', count: 2 },
      { type: 'sleep', code: 'HANDLER_FAILED', count: 1 },
    ]);
    expect(stats.finished).toEqual([
      { type: 'http', status: 'failed', count: 1 },
      { type: 'http', status: 'cancelled', count: 1 },
      { type: 'sleep', status: 'completed', count: 2 },
      { type: 'sleep', status: 'failed', count: 1 },
    ]);
    expect(stats.throughput).toHaveLength(10);
    expect(stats.throughput[0]).toEqual({ start: minute(0).toISOString(), completed: 2, failed: 0, cancelled: 0 });
    expect(stats.throughput[5]).toMatchObject({ completed: 0, failed: 1 });
    expect(stats.throughput[6]).toMatchObject({ completed: 0, failed: 1 });
    expect(stats.throughput[9]).toEqual({ start: minute(9).toISOString(), completed: 0, failed: 0, cancelled: 1 });
    const total = stats.throughput.reduce((n, b) => n + b.completed + b.failed + b.cancelled, 0);
    expect(total).toBe(5);
  });

  it('counts a discarded dead letter neither as open nor as a dead letter, but as finished when it failed', async () => {
    await collections.jobs.insertMany([
      job('d', 'sleep', 'failed', minute(2), 'HANDLER_FAILED'),
      job('d', 'sleep', 'discarded', minute(2, 30), 'HANDLER_FAILED'),
    ]);

    const stats = await readJobStats(collections.jobs, 'd', { since: minute(0), until: minute(10), bucketMs: 60_000 });

    expect(stats.current).toEqual([{ type: 'sleep', status: 'failed', count: 1 }]);
    expect(stats.deadLetters).toEqual([{ type: 'sleep', code: 'HANDLER_FAILED', count: 1 }]);
    expect(stats.finished).toEqual([
      { type: 'sleep', status: 'failed', count: 1 },
      { type: 'sleep', status: 'discarded', count: 1 },
    ]);
    expect(stats.throughput[2]).toMatchObject({ completed: 0, failed: 2, cancelled: 0 });
  });

  it('answers a tenant without jobs with empty buckets', async () => {
    const stats = await readJobStats(collections.jobs, 'nobody', {
      since: minute(0),
      until: minute(1),
      bucketMs: 10_000,
    });
    expect(stats).toMatchObject({ current: [], finished: [], deadLetters: [], runners: [] });
    expect(stats.throughput.map((b) => b.completed)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('is served by an index on the finish time', async () => {
    const indexes = await collections.jobs.indexes();
    expect(indexes.map((i) => i.key)).toContainEqual({ tenantId: 1, finishedAt: 1, status: 1, type: 1 });
  });
});

describe('the window of GET /v1/stats', () => {
  const now = minute(30);

  it('is the last hour in minutes unless asked otherwise', () => {
    expect(parseStatsWindow({}, now)).toEqual({ since: minute(-30), until: now, bucketMs: 60_000 });
    expect(parseStatsWindow({ since: minute(20).toISOString(), bucketSeconds: '10' }, now)).toEqual({
      since: minute(20),
      until: now,
      bucketMs: 10_000,
    });
  });

  it.each([
    [{ since: minute(31).toISOString() }, 'since'],
    [{ since: new Date(now.getTime() - 8 * 86_400_000).toISOString() }, 'since'],
    [{ since: minute(-600).toISOString(), bucketSeconds: '10' }, 'bucketSeconds'],
    [{ bucketSeconds: '5' }, 'bucketSeconds'],
    [{ since: 'yesterday' }, 'since'],
    [{ window: '1h' }, 'window'],
  ])('refuses %j, naming %s', (query, field) => {
    expect(() => parseStatsWindow(query, now)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: [expect.objectContaining({ field })] }),
    );
  });
});
