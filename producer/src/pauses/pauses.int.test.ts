import {
  JoblineError,
  createKafkaPausePublisher,
  createPauseCache,
  decodePauseEvent,
  ensurePauseIndexes,
  pauseCollections,
  pauseScopeId,
  type KafkaPausePublisher,
  type PauseCollections,
  type PauseEvent,
} from '@jobline/libs';
import { readJson } from '@jobline/libs/testing';
import { startTestApp, type TestApp } from '../testing/test-app';

describe('pauses over HTTP against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let base: string;
  let publisher: KafkaPausePublisher;
  let collections: PauseCollections;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-pauses' });
    publisher = createKafkaPausePublisher(stack.kafka, { topic: stack.topics.pauses, timeoutMs: 5000 });
    await publisher.connect();
    collections = pauseCollections(stack.mongo.db);
    await ensurePauseIndexes(collections);
    base = (await stack.start({ pauses: { publisher, cache: cache(), pauses: collections.pauses } })).baseUrl;
  });

  afterAll(async () => {
    await publisher.disconnect();
    await stack.close();
  });

  const cache = () => createPauseCache(stack.redis, { keyPrefix: stack.ns.redisPrefix, ttlSeconds: 60 });
  const call = (method: string, path: string, init: { body?: unknown; token?: string; type?: string } = {}) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${init.token ?? 'token-a'}`,
        ...(init.body === undefined ? {} : { 'content-type': init.type ?? 'application/json' }),
      },
      ...(init.body === undefined
        ? {}
        : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
    });
  /** Every pause event in the topic, in log order (one partition). */
  async function eventsInLog(): Promise<PauseEvent[]> {
    const [offsets] = await stack.admin.fetchTopicOffsets(stack.topics.pauses);
    const end = Number(offsets!.high);
    if (end === 0) return [];
    const events: PauseEvent[] = [];
    const consumer = stack.kafka.consumer({ groupId: `${stack.ns.id}-read-${Math.random()}` });
    await consumer.connect();
    await consumer.subscribe({ topic: stack.topics.pauses, fromBeginning: true });
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          const decoded = decodePauseEvent(message.value);
          if (decoded.ok) events.push(decoded.event);
          if (Number(message.offset) + 1 >= end) resolve();
        },
      });
    });
    await consumer.disconnect();
    return events;
  }
  const logEnd = async () => Number((await stack.admin.fetchTopicOffsets(stack.topics.pauses))[0]!.high);

  it('pauses a job type with a reason, publishes WorkPaused, and shows it on a read at once', async () => {
    const res = await call('PUT', '/v1/pauses/types/http', { body: { reason: 'provider outage' } });
    expect(res.status).toBe(200);
    const view = await readJson(res);
    expect(view).toEqual({
      tenant: null,
      types: [{ type: 'http', reason: 'provider outage', pausedAt: expect.any(String), pausedBy: expect.any(String) }],
    });
    expect(view.types[0].pausedBy).toMatch(/^env:/);

    // No persister runs here: the read finds the change in what the producer cached.
    expect(await readJson(await call('GET', '/v1/pauses'))).toEqual(view);
    const [event] = (await eventsInLog()).slice(-1);
    expect(event).toMatchObject({
      type: 'WorkPaused',
      tenantId: 'tenant-a',
      source: 'producer',
      data: { jobType: 'http', reason: 'provider outage', by: view.types[0].pausedBy },
    });
  });

  it('answers a pause of what is paused and a resume of what is not with the same state, one event each', async () => {
    const first = await readJson(await call('PUT', '/v1/pauses/types/sleep'));
    const before = await logEnd();
    const again = await call('PUT', '/v1/pauses/types/sleep', { body: {} });
    expect(again.status).toBe(200);
    const sleep = (v: { types: { type: string }[] }) => v.types.find((t) => t.type === 'sleep');
    // Paused since the first pause, not the second.
    expect(sleep(await readJson(again))).toEqual(sleep(first));
    expect(await logEnd()).toBe(before + 1);

    // An empty JSON body is no body.
    expect((await call('PUT', '/v1/pauses/types/sleep', { body: '' })).status).toBe(200);

    const resumed = await call('DELETE', '/v1/pauses/types/sleep');
    expect(resumed.status).toBe(200);
    expect(sleep(await readJson(resumed))).toBeUndefined();
    const twice = await call('DELETE', '/v1/pauses/types/sleep');
    expect(twice.status).toBe(200);
    expect(sleep(await readJson(twice))).toBeUndefined();
    expect((await eventsInLog()).slice(-2).map((e) => [e.type, e.data.jobType])).toEqual([
      ['WorkResumed', 'sleep'],
      ['WorkResumed', 'sleep'],
    ]);
  });

  it('pauses and resumes the tenant as a whole, keeping a type paused on its own paused', async () => {
    const paused = await call('PUT', '/v1/pauses/tenant', { body: { reason: 'incident 42' } });
    expect(paused.status).toBe(200);
    expect(await readJson(paused)).toMatchObject({
      tenant: { reason: 'incident 42' },
      types: [{ type: 'http' }],
    });
    const resumed = await readJson(await call('DELETE', '/v1/pauses/tenant'));
    expect(resumed).toMatchObject({ tenant: null, types: [{ type: 'http' }] });
    expect((await eventsInLog()).slice(-2).map((e) => [e.type, e.data.jobType])).toEqual([
      ['WorkPaused', null],
      ['WorkResumed', null],
    ]);
  });

  it('shows a tenant only its own pauses', async () => {
    await call('PUT', '/v1/pauses/tenant', { token: 'token-b' });
    expect(await readJson(await call('GET', '/v1/pauses'))).toMatchObject({ tenant: null });
    expect(await readJson(await call('GET', '/v1/pauses', { token: 'token-b' }))).toMatchObject({
      tenant: { reason: null },
      types: [],
    });
  });

  it('reads the projection when nothing is cached, and the cache when it holds a later event', async () => {
    await cache().evict(['tenant-a']);
    expect(await readJson(await call('GET', '/v1/pauses'))).toEqual({ tenant: null, types: [] });

    const at = new Date().toISOString();
    const scope = (jobType: string | null, paused: boolean) => ({
      tenantId: 'tenant-a',
      jobType,
      paused,
      reason: paused ? 'folded' : null,
      pausedAt: paused ? at : null,
      changedBy: 'env:folded',
      changedAt: at,
    });
    await collections.pauses.insertMany([
      { _id: pauseScopeId('tenant-a', 'noop'), ...scope('noop', true), position: { partition: 0, offset: 100 } },
      { _id: pauseScopeId('tenant-a', 'http'), ...scope('http', true), position: { partition: 0, offset: 101 } },
    ]);
    expect(await readJson(await call('GET', '/v1/pauses'))).toMatchObject({
      types: [{ type: 'http' }, { type: 'noop' }],
    });
    // The producer's cached resume of `noop` is at a later position than the projection: it wins; an older one not.
    await cache().putNewer([
      { scope: scope('noop', false), position: { partition: 0, offset: 102 } },
      { scope: scope('http', false), position: { partition: 0, offset: 50 } },
    ]);
    expect(await readJson(await call('GET', '/v1/pauses'))).toMatchObject({ types: [{ type: 'http' }] });
  });

  it('refuses an unknown job type, a bad body and a body that is not JSON with problem+json, publishing nothing', async () => {
    const before = await logEnd();
    const unknown = await call('PUT', '/v1/pauses/types/teleport');
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await readJson(unknown)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'type', code: 'invalid_value', message: expect.stringContaining('http') }],
    });
    expect((await call('DELETE', '/v1/pauses/types/teleport')).status).toBe(400);

    const badReason = await call('PUT', '/v1/pauses/tenant', { body: { reason: 42, until: 'tomorrow' } });
    expect(badReason.status).toBe(400);
    expect((await readJson(badReason)).errors.map((e: { field: string }) => e.field).sort()).toEqual([
      '(body)',
      'reason',
    ]);
    const tooLong = await call('PUT', '/v1/pauses/types/noop', { body: { reason: 'x'.repeat(501) } });
    expect(await readJson(tooLong)).toMatchObject({ status: 400, errors: [{ field: 'reason', code: 'too_big' }] });
    const text = await call('PUT', '/v1/pauses/tenant', { body: 'incident', type: 'text/plain' });
    expect(text.status).toBe(415);
    const malformed = await call('PUT', '/v1/pauses/tenant', { body: '{"reason":' });
    expect(malformed.status).toBe(400);
    expect((await call('GET', '/v1/pauses', { token: 'nobody' })).status).toBe(401);

    expect(await logEnd()).toBe(before);
  });

  it('answers 503 with Retry-After when Kafka does not take the event, and shows no change', async () => {
    const down = await stack.start({
      pauses: {
        publisher: {
          publish: () => Promise.reject(new JoblineError('KAFKA_UNAVAILABLE', 'no broker', { retryable: true })),
        },
        cache: cache(),
        pauses: collections.pauses,
      },
    });
    const res = await fetch(`${down.baseUrl}/v1/pauses/types/book.export`, {
      method: 'PUT',
      headers: { authorization: 'Bearer token-a' },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    const view = await readJson(await call('GET', '/v1/pauses'));
    expect(view.types.map((t: { type: string }) => t.type)).not.toContain('book.export');
  });
});
