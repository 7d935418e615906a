import { randomUUID } from 'node:crypto';
import {
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  createMetricsRegistry,
  JoblineError,
  type EventPublisher,
  type JobDocument,
  type JobView,
} from '@jobline/libs';
import { metricValue, readJson, tapEvents, testInfra, waitFor } from '@jobline/libs/testing';
import type { AppDeps } from './app';
import { createProducerMetrics } from './http/request-telemetry';
import { listenApp, startTestApp, type ListeningApp, type TestApp } from './testing/test-app';

const logger = createLogger({ service: 'test', level: 'error' });

describe('producer HTTP API against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let base: string;
  let tap: Awaited<ReturnType<typeof tapEvents>>;
  let appDeps: AppDeps;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-producer', eventPartitions: 3 });
    appDeps = { ...stack.deps, readiness: { redis: () => stack.redis.ping() } };
    base = (await stack.start(appDeps)).baseUrl;
    tap = await tapEvents(stack.kafka, stack.topics.events);
  });

  afterAll(async () => {
    await tap.stop();
    await stack.close();
  });

  const postTo = (url: string, body: unknown, token = 'token-a', headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const post = (body: unknown, token?: string, headers?: Record<string, string>) =>
    postTo(`${base}/v1/jobs`, body, token, headers);
  const get = (id: string, token = 'token-a') =>
    fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: `Token ${token}` } });

  it('accepts a job only once JobRequested is in Kafka, then serves it from the cache', async () => {
    const res = await post({ type: 'sleep', payload: { ms: 5 }, metadata: { origin: 'test' } });

    expect(res.status).toBe(202);
    const job = await readJson(res);
    expect(job).toMatchObject({ type: 'sleep', status: 'pending', attempts: 0, metadata: { origin: 'test' } });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${job.id}`);
    const [event] = await tap.forJob(job.id, (e) => e.length >= 1);
    expect(event).toMatchObject({
      type: 'JobRequested',
      tenantId: 'tenant-a',
      data: { type: 'sleep', payload: { ms: 5 } },
    });

    const read = await get(job.id);
    expect(read.status).toBe(200);
    expect(await readJson(read)).toEqual(job);
  });

  it('finds a job cancelled before the persister folded it, cancelled, and its history', async () => {
    // given: a job only the cache knows (no persister runs here)
    const job = await readJson(await post({ type: 'sleep', payload: { ms: 5 }, delayMs: 3_600_000 }));

    // when
    const cancel = await postTo(`${base}/v1/jobs/${job.id}/cancel`, {});

    // then
    expect(cancel.status).toBe(202);
    expect(await readJson(cancel)).toMatchObject({ id: job.id, status: 'cancelled' });
    const read = await get(job.id);
    expect(read.status).toBe(200);
    expect(await readJson(read)).toMatchObject({ id: job.id, status: 'cancelled' });
    const history = await fetch(`${base}/v1/jobs/${job.id}/events`, { headers: { authorization: 'Bearer token-a' } });
    expect(history.status).toBe(200);
  });

  it('keeps tenants apart: another tenant gets 404 for the same id', async () => {
    const job = await readJson(await post({ type: 'noop' }));

    const other = await get(job.id, 'token-b');

    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
    expect(await readJson(other)).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
  });

  it('falls back to MongoDB when the cache misses', async () => {
    const doc = {
      _id: '6f1c4a8e-2b1d-4c7e-9a3b-5d6e7f8a9b0c',
      id: '6f1c4a8e-2b1d-4c7e-9a3b-5d6e7f8a9b0c',
      tenantId: 'tenant-a',
      type: 'noop',
      payload: {},
      status: 'completed',
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
      error: null,
      runnerId: 'r',
      cancelRequestedAt: null,
      deadLetteredAt: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:01.000Z',
      startedAt: '2026-01-01T00:00:00.500Z',
      finishedAt: '2026-01-01T00:00:01.000Z',
      position: { partition: 0, offset: 9 },
    } satisfies JobDocument;
    await stack.mongo.db.collection<JobDocument>('jobs').insertOne(doc);

    const res = await get(doc.id);

    expect(res.status).toBe(200);
    expect(await readJson(res)).toMatchObject({ id: doc.id, status: 'completed', finishedAt: doc.finishedAt });
    expect((await get(doc.id, 'token-b')).status).toBe(404);
  });

  /** Messages ever written to the event topic: unchanged means nothing reached Kafka. */
  const eventsInLog = () => stack.eventsInLog();

  it.each([
    ['an unknown job type', { type: 'teleport' }, 'type'],
    ['a payload that breaks the type schema', { type: 'sleep', payload: { ms: -1 } }, 'payload.ms'],
    ['a missing payload field', { type: 'sleep', payload: {} }, 'payload.ms'],
    ['an unknown field', { type: 'noop', colour: 'red' }, '(body)'],
  ])('rejects %s with problem+json naming the field, and publishes nothing', async (_name, body, field) => {
    const before = await eventsInLog();

    const res = await post(body);

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = await readJson(res);
    expect(problem).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      type: 'urn:jobline:problem:validation-failed',
    });
    expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(await eventsInLog()).toBe(before);
  });

  it('answers malformed JSON, oversized bodies and other media types with problem+json', async () => {
    const malformed = await post('{"type":');
    const huge = await post({ type: 'noop', metadata: { big: 'x'.repeat(20_000) } });
    const text = await post('hello', 'token-a', { 'content-type': 'text/plain' });

    expect([malformed.status, huge.status, text.status]).toEqual([400, 413, 415]);
    expect((await readJson(malformed)).code).toBe('VALIDATION_FAILED');
    expect((await readJson(huge)).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await readJson(text)).code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('requires a known token', async () => {
    const none = await fetch(`${base}/v1/jobs/00000000-0000-4000-8000-000000000000`);
    const wrong = await get('00000000-0000-4000-8000-000000000000', 'nope');

    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect((await readJson(none)).code).toBe('UNAUTHORIZED');
  });

  it('echoes X-Request-Id and reports health and readiness', async () => {
    const health = await fetch(`${base}/health`, { headers: { 'x-request-id': 'req-42' } });
    const ready = await fetch(`${base}/ready`);

    expect(health.status).toBe(200);
    expect(health.headers.get('x-request-id')).toBe('req-42');
    expect(await readJson(ready)).toMatchObject({ status: 'ready', checks: { redis: { status: 'up' } } });
  });

  describe('Idempotency-Key', () => {
    const requestedWithKey = (key: string) =>
      tap.events.flatMap((e) => (e.type === 'JobRequested' && e.data.idempotencyKey === key ? [e] : []));

    it('returns the same job for the same key and body, with one event in the log', async () => {
      const key = `k-${randomUUID()}`;
      const body = { type: 'sleep', payload: { ms: 5 }, metadata: { a: '1', b: '2' } };

      const first = await post(body, 'token-a', { 'idempotency-key': key });
      // the same body with its keys in another order is the same request
      const again = await post({ metadata: { b: '2', a: '1' }, payload: { ms: 5 }, type: 'sleep' }, 'token-a', {
        'idempotency-key': key,
      });

      expect([first.status, again.status]).toEqual([202, 202]);
      const [job, replay] = [await readJson(first), await readJson(again)];
      expect(replay.id).toBe(job.id);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      await tap.forJob(job.id, (e) => e.length >= 1);
      expect(requestedWithKey(key)).toHaveLength(1);
    });

    it('refuses the same key with another body with 409, and publishes nothing', async () => {
      const key = `k-${randomUUID()}`;
      await post({ type: 'noop' }, 'token-a', { 'idempotency-key': key });

      const other = await post({ type: 'sleep', payload: { ms: 1 } }, 'token-a', { 'idempotency-key': key });

      expect(other.status).toBe(409);
      expect(await readJson(other)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 409 });
      expect(requestedWithKey(key).every((e) => e.data.type === 'noop')).toBe(true);
    });

    it('keeps keys per tenant', async () => {
      const key = `k-${randomUUID()}`;

      const a = await readJson(await post({ type: 'noop' }, 'token-a', { 'idempotency-key': key }));
      const b = await readJson(await post({ type: 'noop' }, 'token-b', { 'idempotency-key': key }));

      expect(a.id).not.toBe(b.id);
    });

    it('creates one job for concurrent duplicates', async () => {
      const key = `k-${randomUUID()}`;

      const responses = await Promise.all(
        Array.from({ length: 12 }, () => post({ type: 'noop' }, 'token-a', { 'idempotency-key': key })),
      );

      expect(responses.map((r) => r.status)).toEqual(Array(12).fill(202));
      const ids = new Set(await Promise.all(responses.map(async (r) => (await readJson(r)).id as string)));
      expect(ids.size).toBe(1);
      const [id] = ids;
      await tap.forJob(id!, (e) => e.length >= 1);
      // A duplicate that came before the first was found may publish its event again: the same event, one job.
      expect(new Set(requestedWithKey(key).map((e) => `${e.jobId}:${e.eventId}`))).toEqual(
        new Set([`${id}:${requestedWithKey(key)[0]!.eventId}`]),
      );
    });

    it('rejects a malformed key', async () => {
      const res = await post({ type: 'noop' }, 'token-a', { 'idempotency-key': 'x'.repeat(256) });

      expect(res.status).toBe(400);
      expect((await readJson(res)).errors[0].field).toBe('Idempotency-Key');
    });
  });

  describe('POST /v1/jobs/batch', () => {
    const postBatch = (body: unknown, headers?: Record<string, string>) =>
      postTo(`${base}/v1/jobs/batch`, body, 'token-a', headers);
    const fieldsOf = (problem: { errors: { field: string }[] }) => problem.errors.map((e) => e.field);

    it('accepts every job once all their JobRequested events are in Kafka, in request order', async () => {
      const jobs = [
        { type: 'sleep', payload: { ms: 5 } },
        { type: 'noop', metadata: { n: '2' } },
        { type: 'noop', delayMs: 60_000 },
      ];

      const res = await postBatch({ jobs });

      expect(res.status).toBe(202);
      const body = await readJson(res);
      expect(body.jobs.map((j: JobView) => [j.type, j.status])).toEqual([
        ['sleep', 'pending'],
        ['noop', 'pending'],
        ['noop', 'scheduled'],
      ]);
      expect(body.jobs[1].metadata).toEqual({ n: '2' });
      const ids = body.jobs.map((j: JobView) => j.id);
      expect(new Set(ids).size).toBe(3);
      for (const [i, id] of ids.entries()) {
        const [event] = await tap.forJob(id, (e) => e.length >= 1);
        expect(event).toMatchObject({ type: 'JobRequested', tenantId: 'tenant-a', data: { type: jobs[i]!.type } });
        const read = await get(id);
        expect(read.status).toBe(200);
        expect(await readJson(read)).toEqual(body.jobs[i]);
      }
    });

    it('rejects the whole batch when one job is invalid, naming its index, and publishes nothing', async () => {
      const logBefore = await eventsInLog();

      const res = await postBatch({
        jobs: [{ type: 'noop' }, { type: 'noop' }, { type: 'sleep', payload: { ms: -1 } }, { type: 'noop' }],
      });

      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = await readJson(res);
      expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
      expect(fieldsOf(problem)).toEqual(['jobs.2.payload.ms']);
      expect(await eventsInLog()).toBe(logBefore);
    });

    it.each([
      ['an empty list', []],
      ['more jobs than BATCH_MAX_JOBS', Array(6).fill({ type: 'noop' })],
    ])('rejects %s with 400 on the jobs field, and publishes nothing', async (_name, jobs) => {
      const logBefore = await eventsInLog();

      const res = await postBatch({ jobs });

      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = await readJson(res);
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(fieldsOf(problem)).toEqual(['jobs']);
      expect(await eventsInLog()).toBe(logBefore);
    });

    it('replays the same batch for the same Idempotency-Key and body, and refuses another body', async () => {
      const key = `k-${randomUUID()}`;
      const jobs = [{ type: 'noop' }, { type: 'sleep', payload: { ms: 5 }, metadata: { a: '1' } }];

      const first = await postBatch({ jobs }, { 'idempotency-key': key });
      const again = await postBatch(
        { jobs: [{ type: 'noop' }, { metadata: { a: '1' }, payload: { ms: 5 }, type: 'sleep' }] },
        { 'idempotency-key': key },
      );
      const reordered = await postBatch({ jobs: [...jobs].reverse() }, { 'idempotency-key': key });
      const single = await post(jobs[0], 'token-a', { 'idempotency-key': key });

      expect([first.status, again.status]).toEqual([202, 202]);
      const ids = (await readJson(first)).jobs.map((j: JobView) => j.id);
      expect((await readJson(again)).jobs.map((j: JobView) => j.id)).toEqual(ids);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect([reordered.status, single.status]).toEqual([409, 409]);
      expect((await readJson(reordered)).code).toBe('IDEMPOTENCY_KEY_REUSED');
      for (const id of ids) await tap.forJob(id, (e) => e.length >= 1);
      const withKey = tap.events.filter((e) => e.type === 'JobRequested' && e.data.idempotencyKey === key);
      expect(withKey.map((e) => e.jobId).sort()).toEqual([...ids].sort());
    });

    it('answers 503 when Kafka does not take the batch and caches nothing; the retry with its key creates those jobs', async () => {
      const kafka = createKafka({ brokers: testInfra().brokers, clientId: 'test-producer-down', logger });
      // Never connected: every publish fails as it does when Kafka is away.
      const down = createKafkaEventPublisher(kafka, { topic: stack.topics.events, timeoutMs: 5000 });
      const downApp = await listenApp({ ...appDeps, publisher: down });
      const cachedJobs = async () => (await stack.redis.keys(`${stack.ns.redisPrefix}job:*`)).length;
      const [cachedBefore, logBefore] = [await cachedJobs(), await eventsInLog()];
      const key = `k-${randomUUID()}`;
      const body = { jobs: [{ type: 'noop' }, { type: 'noop' }] };

      try {
        const res = await postTo(`${downApp.baseUrl}/v1/jobs/batch`, body, 'token-a', { 'idempotency-key': key });

        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('7');
        expect(await readJson(res)).toMatchObject({ code: 'KAFKA_UNAVAILABLE', status: 503 });
        expect(await cachedJobs()).toBe(cachedBefore);
        expect(await eventsInLog()).toBe(logBefore);
      } finally {
        await downApp.close();
      }

      const retry = await postBatch(body, { 'idempotency-key': key });
      const again = await postBatch(body, { 'idempotency-key': key });
      expect([retry.status, again.status]).toEqual([202, 202]);
      const ids = (await readJson(retry)).jobs.map((j: JobView) => j.id);
      expect((await readJson(again)).jobs.map((j: JobView) => j.id)).toEqual(ids);
      for (const id of ids) await tap.forJob(id, (e) => e.length >= 1);
      const withKey = tap.events.filter((e) => e.type === 'JobRequested' && e.data.idempotencyKey === key);
      expect(withKey.map((e) => e.jobId).sort()).toEqual([...ids].sort());
    });

    it('publishes the same JobRequested again when a request that failed after Kafka took its job is retried', async () => {
      // Kafka acknowledges too late: the client got a 503, and the job is in the log all the same.
      const late: EventPublisher = {
        publish: async (events) => {
          await stack.publisher.publish(events);
          throw new JoblineError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge within 5000 ms', { retryable: true });
        },
      };
      const lateApp = await listenApp({ ...appDeps, publisher: late });
      const key = `k-${randomUUID()}`;
      const body = { type: 'noop', metadata: { case: 'late-ack' } };
      try {
        const res = await postTo(`${lateApp.baseUrl}/v1/jobs`, body, 'token-a', { 'idempotency-key': key });
        expect(res.status).toBe(503);
      } finally {
        await lateApp.close();
      }
      const withKey = () => tap.events.filter((e) => e.type === 'JobRequested' && e.data.idempotencyKey === key);
      await waitFor(() => withKey().length === 1, { timeoutMs: 10_000, description: 'the late job in the log' });
      const [first] = withKey();

      const retry = await post(body, 'token-a', { 'idempotency-key': key });

      expect(retry.status).toBe(202);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect((await readJson(retry)).id).toBe(first!.jobId);
      // Published again or found already: either way one job, under one event id.
      expect(new Set(withKey().map((e) => `${e.jobId}:${e.eventId}`))).toEqual(
        new Set([`${first!.jobId}:${first!.eventId}`]),
      );
    });
  });

  describe('metrics, request ids and request logs', () => {
    const lines: string[] = [];
    const registry = createMetricsRegistry('producer');
    let observed: ListeningApp;
    let url: string;

    beforeAll(async () => {
      const captured = createLogger({ service: 'producer', level: 'debug' });
      for (const transport of captured.transports) transport.silent = true;
      captured.on('data', (info: unknown) => lines.push(JSON.stringify(info)));
      const failing: EventPublisher = {
        publish: async (events) => {
          if (events.some((e) => e.type === 'JobRequested' && e.data.type === 'sleep'))
            throw new Error('broker exploded');
          return stack.publisher.publish(events);
        },
      };
      observed = await listenApp({
        ...appDeps,
        publisher: failing,
        logger: captured,
        metrics: createProducerMetrics(registry),
      });
      url = observed.baseUrl;
    });

    afterAll(async () => {
      await observed.close();
    });

    const post = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${url}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: 'Bearer token-a', 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });

    it('counts created jobs by type and times requests by route template', async () => {
      const created = await Promise.all([1, 2, 3].map(() => post({ type: 'noop' })));
      const ids = await Promise.all(created.map(async (res) => ((await readJson(res)) as JobView).id));
      await fetch(`${url}/v1/jobs/${ids[0]}`, { headers: { authorization: 'Bearer token-a' } });
      await fetch(`${url}/v1/jobs/${randomUUID()}`, { headers: { authorization: 'Bearer token-a' } });
      await fetch(`${url}/v1/nothing-here/${ids[1]}`, { headers: { authorization: 'Bearer token-a' } });

      expect(created.map((res) => res.status)).toEqual([202, 202, 202]);
      const text = await registry.metrics();
      const requests = (labels: Record<string, string>) =>
        metricValue(text, 'jobline_http_request_duration_seconds_count', { service: 'producer', ...labels });
      expect(metricValue(text, 'jobline_jobs_created_total', { type: 'noop', service: 'producer' })).toBe(3);
      expect(requests({ method: 'POST', route: '/v1/jobs', status: '202' })).toBe(3);
      expect(requests({ method: 'GET', route: '/v1/jobs/:id', status: '200' })).toBe(1);
      expect(requests({ method: 'GET', route: '/v1/jobs/:id', status: '404' })).toBe(1);
      expect(requests({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
      expect(metricValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
      for (const id of ids) expect(text).not.toContain(id);
    });

    it('echoes an acceptable X-Request-Id, replaces others, and logs requests and failures with it', async () => {
      const given = await post({ type: 'noop' }, { 'x-request-id': 'client-req-1' });
      const tooLong = await post({ type: 'noop' }, { 'x-request-id': 'x'.repeat(129) });
      const spaced = await post({ type: 'noop' }, { 'x-request-id': 'a b' });
      const failed = await post({ type: 'sleep', payload: { ms: 1 } }, { 'x-request-id': 'client-req-2' });

      expect(given.headers.get('x-request-id')).toBe('client-req-1');
      expect(tooLong.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(spaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(failed.status).toBe(500);
      const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(logged).toContainEqual(
        expect.objectContaining({ message: 'http request', requestId: 'client-req-1', route: '/v1/jobs', status: 202 }),
      );
      expect(logged).toContainEqual(
        expect.objectContaining({ message: 'request failed', requestId: 'client-req-2', level: 'error' }),
      );
    });

    it('never logs an Authorization header or a token', async () => {
      await post({ type: 'noop' });
      await fetch(`${url}/v1/jobs`, { headers: { authorization: 'Bearer secret-token-that-is-wrong' } });
      await fetch(`${url}/v1/jobs`, { headers: { authorization: 'Token token-b' } });
      await post({ type: 'sleep', payload: { ms: 1 } });

      expect(lines.length).toBeGreaterThan(3);
      const all = lines.join('\n');
      expect(all).not.toMatch(/authorization|bearer/i);
      expect(all).not.toContain('token-a');
      expect(all).not.toContain('token-b');
      expect(all).not.toContain('secret-token-that-is-wrong');
    });
  });
});
