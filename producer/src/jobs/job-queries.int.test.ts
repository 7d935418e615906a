import { randomUUID } from 'node:crypto';
import {
  createJobCache,
  createLogger,
  evolve,
  newEvent,
  toJobView,
  type JobDocument,
  type JobEvent,
  type JobEventDocument,
  type JobStatus,
  type JobView,
  type JoblineCollections,
} from '@jobline/libs';
import { readJson } from '@jobline/libs/testing';
import { jobRequestedEvent, parseCreateJob } from './create-job-request';
import { connectTestStores, listenApp, type ListeningApp, type TestStores } from '../testing/test-app';

const logger = createLogger({ service: 'test', level: 'error' });

/** A job as the persister would have projected it, created at `createdAt`. */
function jobDocument(
  tenantId: string,
  createdAt: string,
  options: { type?: 'noop' | 'sleep'; status?: JobStatus; metadata?: Record<string, string> } = {},
): JobDocument {
  const type = options.type ?? 'noop';
  const request = parseCreateJob({ type, payload: type === 'sleep' ? { ms: 1 } : {}, metadata: options.metadata });
  const job = evolve(null, jobRequestedEvent(request, tenantId, new Date(createdAt)))!;
  return { ...job, status: options.status ?? job.status, _id: job.id, position: { partition: 0, offset: 0 } };
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
/** The order GET /v1/jobs promises: createdAt desc, then id desc. */
const newestFirst = (a: JobDocument, b: JobDocument) =>
  a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1;

describe('GET /v1/jobs and GET /v1/jobs/{id}/events against MongoDB and Redis', () => {
  let stores: TestStores;
  let app: ListeningApp;
  let base: string;
  let collections: JoblineCollections;

  // tenant-a: one job of each status, at minutes 0..5; tenant-b: one job at minute 2, matching tenant-a's filters.
  const a = [
    jobDocument('tenant-a', at(0), { status: 'pending', metadata: { team: 'red', env: 'prod' } }),
    jobDocument('tenant-a', at(1), { type: 'sleep', status: 'completed', metadata: { team: 'blue' } }),
    jobDocument('tenant-a', at(2), { status: 'failed', metadata: { team: 'red', env: 'dev' } }),
    jobDocument('tenant-a', at(3), { type: 'sleep', status: 'scheduled' }),
    jobDocument('tenant-a', at(4), { status: 'processing', metadata: { team: 'red', env: 'prod' } }),
    jobDocument('tenant-a', at(5), { status: 'cancelled' }),
  ];
  const b = jobDocument('tenant-b', at(2), { status: 'failed', metadata: { team: 'red', env: 'dev' } });
  // tenant-c: 25 jobs sharing five createdAt instants, for pagination.
  const c = Array.from({ length: 25 }, (_, i) => jobDocument('tenant-c', at(10 + (i % 5))));

  beforeAll(async () => {
    stores = await connectTestStores(logger);
    collections = stores.collections;
    await collections.jobs.insertMany([...a, b, ...c]);
    app = await listenApp({
      publisher: { publish: () => Promise.reject(new Error('these tests only read')) },
      cache: stores.cache,
      reader: stores.reader,
      announceCancellation: () => Promise.resolve(),
      idempotency: stores.idempotency,
      batchMaxJobs: 5,
      tokens: new Map(['a', 'b', 'c'].map((t) => [`token-${t}`, `tenant-${t}`])),
      readiness: {},
      maxBodyBytes: 10_000,
      retryAfterSeconds: 1,
      logger,
      now: () => new Date(),
    });
    base = app.baseUrl;
  });

  afterAll(async () => {
    await app.close();
    await stores.close();
  });

  const get = (path: string, token = 'token-a') =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const list = async (query: string, token = 'token-a') => {
    const res = await get(`/v1/jobs?${query}`, token);
    expect(res.status).toBe(200);
    return (await readJson(res)) as { items: JobView[]; nextCursor: string | null };
  };
  const ids = (docs: JobDocument[]) => [...docs].sort(newestFirst).map((d) => d.id);
  const listedIds = async (query: string, token?: string) => (await list(query, token)).items.map((j) => j.id);

  describe('GET /v1/jobs', () => {
    it("lists only the tenant's own jobs, newest first, as job views", async () => {
      const page = await list('');

      expect(page.items.map((j) => j.id)).toEqual(ids(a));
      expect(page.items[0]).toEqual(toJobView(a[5]!));
      expect(page.nextCursor).toBeNull();
      expect(await listedIds('', 'token-b')).toEqual([b.id]);
    });

    it.each([
      ['one status', 'status=failed', [2]],
      ['several statuses', 'status=pending,completed,processing', [0, 1, 4]],
      ['a type', 'type=sleep', [1, 3]],
      ['createdAfter (inclusive), with an offset', 'createdAfter=2026-01-01T02:03:00%2B02:00', [3, 4, 5]],
      ['createdBefore (exclusive), with an offset', 'createdBefore=2025-12-31T23:02:00-01:00', [0, 1]],
      ['a created range', 'createdAfter=2026-01-01T00:01:00Z&createdBefore=2026-01-01T00:04:00Z', [1, 2, 3]],
      ['one metadata entry', 'metadata.team=red', [0, 2, 4]],
      ['several metadata entries, all matching', 'metadata.team=red&metadata.env=prod', [0, 4]],
      ['filters combined', 'status=pending,failed&type=noop&metadata.env=dev', [2]],
      ['a filter that matches nothing', 'type=sleep&metadata.team=red', []],
    ])('filters by %s', async (_name, query, expected) => {
      expect(await listedIds(query)).toEqual(ids(expected.map((i) => a[i]!)));
    });

    it('walks every job exactly once, in order, when jobs share createdAt', async () => {
      const expected = ids(c);
      for (const limit of [1, 4, 7, 25]) {
        const seen: string[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const page = await list(`limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, 'token-c');
          expect(page.items.length).toBeLessThanOrEqual(limit);
          seen.push(...page.items.map((j) => j.id));
          cursor = page.nextCursor;
          pages += 1;
        } while (cursor !== null && pages < 30);

        expect(seen).toEqual(expected);
        expect(pages).toBe(Math.ceil(25 / limit));
      }
    });

    it('pages by 20 by default and keeps the filters across pages', async () => {
      const first = await list('', 'token-c');
      expect(first.items).toHaveLength(20);
      expect(first.nextCursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect((await list(`cursor=${first.nextCursor}`, 'token-c')).items).toHaveLength(5);

      const filtered = 'createdBefore=2026-01-01T00:14:00Z';
      const page1 = await list(`${filtered}&limit=10`, 'token-c');
      const page2 = await list(`${filtered}&limit=10&cursor=${page1.nextCursor}`, 'token-c');
      expect([...page1.items, ...page2.items].map((j) => j.id)).toEqual(ids(c.filter((d) => d.createdAt < at(14))));
      expect(page2.nextCursor).toBeNull();
    });

    it("lists only the caller's jobs whoever issued the cursor: a cursor is only a position", async () => {
      const cursor = (await list('limit=1', 'token-a')).nextCursor;

      expect(await listedIds(`limit=100&cursor=${cursor}`, 'token-b')).toEqual([b.id]);
    });

    const fieldsOf = (problem: { errors: { field: string }[] }) => problem.errors.map((e) => e.field);
    const cursorOf = async (query: string) => (await list(query)).nextCursor!;

    it.each([
      ['a malformed cursor', () => 'cursor=not*base64', ['cursor']],
      [
        'a cursor that decodes to something else',
        () => `cursor=${Buffer.from('{"x":1}').toString('base64url')}`,
        ['cursor'],
      ],
      [
        'a cursor issued for other filters',
        async () => `status=failed&cursor=${await cursorOf('limit=1')}`,
        ['cursor'],
      ],
      [
        'a cursor issued for other metadata',
        async () => `cursor=${await cursorOf('limit=1&metadata.team=red')}`,
        ['cursor'],
      ],
      ['limit 0', () => 'limit=0', ['limit']],
      ['limit over 100', () => 'limit=101', ['limit']],
      ['a limit that is not a number', () => 'limit=ten', ['limit']],
      ['an unknown status', () => 'status=pending,done', ['status.1']],
      ['an instant without an offset', () => 'createdAfter=2026-01-01T00:00:00', ['createdAfter']],
      ['unknown parameters', () => 'sort=asc&page=2', ['sort', 'page']],
      ['a repeated parameter', () => 'type=noop&type=sleep', ['type']],
      ['a metadata key with a dot', () => 'metadata.a.b=1', ['metadata.a.b']],
    ])('answers %s with 400 problem+json naming the field', async (_name, query, fields) => {
      const res = await get(`/v1/jobs?${await query()}`);

      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = await readJson(res);
      expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(fieldsOf(problem)).toEqual(fields);
    });

    it('requires a token', async () => {
      expect((await fetch(`${base}/v1/jobs`)).status).toBe(401);
    });
  });

  describe('GET /v1/jobs/{id}/events', () => {
    const stored = (event: JobEvent, offset: number): JobEventDocument => ({
      _id: event.eventId,
      event,
      position: { partition: 1, offset },
      jobId: event.jobId,
      tenantId: event.tenantId,
    });

    it('returns the stored events in log order', async () => {
      const job = a[1]!;
      const ctx = { jobId: job.id, tenantId: job.tenantId, now: new Date(at(1)) };
      const requested = jobRequestedEvent(parseCreateJob({ type: 'sleep', payload: { ms: 1 } }), job.tenantId, ctx.now);
      const events = [
        { ...requested, jobId: job.id },
        newEvent('JobStarted', { ...ctx, source: 'runner' }, { attempt: 1, runnerId: 'r1' }),
        newEvent('JobCompleted', { ...ctx, source: 'runner' }, { attempt: 1, result: { ok: true }, resultUrl: null }),
      ];
      // Offsets whose string order differs from their numeric order, inserted out of order.
      const docs = [stored(events[0]!, 9), stored(events[1]!, 10), stored(events[2]!, 100)];
      await collections.jobEvents.insertMany([docs[2]!, docs[0]!, docs[1]!]);

      const res = await get(`/v1/jobs/${job.id}/events`);

      expect(res.status).toBe(200);
      expect(await readJson(res)).toEqual({ items: events });
    });

    it('answers 404 for another tenant’s job, an unknown id and a malformed one', async () => {
      await collections.jobEvents.insertOne(
        stored(jobRequestedEvent(parseCreateJob({ type: 'noop' }), 'tenant-b', new Date()), 0),
      );

      for (const [path, token] of [
        [`/v1/jobs/${b.id}/events`, 'token-a'],
        [`/v1/jobs/${randomUUID()}/events`, 'token-a'],
        ['/v1/jobs/not-a-job/events', 'token-a'],
      ] as const) {
        const res = await get(path, token);
        expect(res.status).toBe(404);
        expect(await readJson(res)).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
      }
      const other = (await collections.jobEvents.findOne({ tenantId: 'tenant-b' }))!;
      expect((await get(`/v1/jobs/${other.jobId}/events`, 'token-a')).status).toBe(404);
      expect((await get(`/v1/jobs/${other.jobId}/events`, 'token-b')).status).toBe(200);
    });

    it('answers an empty history for a job accepted but not persisted yet', async () => {
      const view = toJobView(
        evolve(null, jobRequestedEvent(parseCreateJob({ type: 'noop' }), 'tenant-a', new Date()))!,
      );
      await createJobCache(stores.redis, { keyPrefix: stores.ns.redisPrefix, ttlSeconds: 60 }).putIfAbsent({
        tenantId: 'tenant-a',
        view,
      });

      const res = await get(`/v1/jobs/${view.id}/events`);

      expect(res.status).toBe(200);
      expect(await readJson(res)).toEqual({ items: [] });
      expect((await get(`/v1/jobs/${view.id}/events`, 'token-b')).status).toBe(404);
    });
  });
});
