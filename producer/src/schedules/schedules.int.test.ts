import { randomUUID } from 'node:crypto';
import {
  JoblineError,
  createKafka,
  createKafkaSchedulePublisher,
  createLogger,
  createScheduleCache,
  decodeScheduleEvent,
  ensureScheduleIndexes,
  evolve,
  evolveSchedule,
  scheduleCollections,
  scheduledJobId,
  type KafkaSchedulePublisher,
  type ScheduleCollections,
  type ScheduleEvent,
  type SchedulePublisher,
} from '@jobline/libs';
import { aJobRequested, aScheduleCreated, readJson, testInfra, waitFor } from '@jobline/libs/testing';
import type { Consumer } from 'kafkajs';
import { listenApp, startTestApp, type TestApp } from '../testing/test-app';

describe('schedules over HTTP against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let base: string;
  let publisher: KafkaSchedulePublisher;
  let collections: ScheduleCollections;
  let tap: Consumer;
  const events: ScheduleEvent[] = [];
  /** Messages the tap has read, decodable or not. */
  let tapped = 0;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-schedules', eventPartitions: 3 });
    publisher = createKafkaSchedulePublisher(stack.kafka, { topic: stack.topics.schedules, timeoutMs: 5000 });
    await publisher.connect();
    collections = scheduleCollections(stack.mongo.db);
    await ensureScheduleIndexes(collections);
    const cache = createScheduleCache(stack.redis, { keyPrefix: stack.ns.redisPrefix, ttlSeconds: 60 });
    base = (await stack.start({ schedules: { publisher, cache, schedules: collections.schedules } })).baseUrl;
    tap = stack.kafka.consumer({ groupId: `tap-${randomUUID()}` });
    await tap.connect();
    await tap.subscribe({ topic: stack.topics.schedules, fromBeginning: true });
    await tap.run({
      eachMessage: async ({ message }) => {
        tapped += 1;
        const decoded = decodeScheduleEvent(message.value);
        if (decoded.ok) events.push(decoded.event);
      },
    });
  });

  afterAll(async () => {
    await tap.disconnect();
    await publisher.disconnect();
    await stack.close();
  });

  const call = (method: string, path: string, body?: unknown, token = 'token-a') =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const eventsOf = (id: string) => events.filter((e) => e.scheduleId === id);
  const schedulesDeps = (schedulePublisher: SchedulePublisher = publisher) => ({
    publisher: schedulePublisher,
    cache: createScheduleCache(stack.redis, { keyPrefix: stack.ns.redisPrefix, ttlSeconds: 60 }),
    schedules: collections.schedules,
  });
  /** Waits until the tap has read every message of the schedule topic, so that what it holds is the whole log. */
  const tapCaughtUp = async () => {
    const offsets = await stack.admin.fetchTopicOffsets(stack.topics.schedules);
    const written = offsets.reduce((sum, p) => sum + Number(p.high), 0);
    await waitFor(() => tapped >= written, { description: `the tap at the end of the schedule topic (${written})` });
  };

  it('creates a schedule in Kafka, answers 201 with its next fire times, and reads it back at once', async () => {
    const res = await call('POST', '/v1/schedules', {
      name: 'nightly report',
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      job: { type: 'sleep', payload: { ms: 5 }, metadata: { team: 'ops' } },
      overlap: 'skip',
    });

    expect(res.status).toBe(201);
    const view = await readJson(res);
    expect(res.headers.get('location')).toBe(`/v1/schedules/${view.id}`);
    expect(view).toMatchObject({
      name: 'nightly report',
      status: 'active',
      cron: '30 2 * * *',
      timeZone: 'Europe/Berlin',
      intervalMs: null,
      job: { type: 'sleep', payload: { ms: 5 }, maxAttempts: 3, metadata: { team: 'ops' } },
      catchUp: 'latest',
      overlap: 'skip',
      revision: 1,
      recentJobs: [],
    });
    expect(view.nextFireTimes).toHaveLength(5);
    expect(new Date(view.nextFireTimes[0]).toLocaleTimeString('en-GB', { timeZone: 'Europe/Berlin' })).toBe('02:30:00');

    const read = await call('GET', `/v1/schedules/${view.id}`);
    expect(read.status).toBe(200);
    expect(await readJson(read)).toMatchObject({ id: view.id, revision: 1 });
    expect((await call('GET', `/v1/schedules/${view.id}`, undefined, 'token-b')).status).toBe(404);
    await waitFor(() => eventsOf(view.id).length === 1, { description: 'ScheduleCreated in Kafka' });
    expect(eventsOf(view.id)[0]).toMatchObject({
      type: 'ScheduleCreated',
      tenantId: 'tenant-a',
      data: { revision: 1 },
    });
  });

  it.each([
    [{ cron: '* * * *', job: { type: 'noop' } }, 'cron'],
    [{ cron: '* * * * *', timeZone: 'Mars/Olympus', job: { type: 'noop' } }, 'timeZone'],
    [{ cron: '* * * * *', intervalMs: 5000, job: { type: 'noop' } }, 'intervalMs'],
    [{ job: { type: 'noop' } }, 'cron'],
    [{ intervalMs: 5000, job: { type: 'sleep', payload: { ms: 'long' } } }, 'job.payload.ms'],
    [{ intervalMs: 5000, job: { type: 'noop', runAt: '2030-01-01T00:00:00Z' } }, 'job'],
    [{ intervalMs: 5000, job: { type: 'nope' } }, 'job.type'],
    [
      { intervalMs: 5000, job: { type: 'noop' }, startAt: '2030-01-02T00:00:00Z', endAt: '2030-01-01T00:00:00Z' },
      'endAt',
    ],
    [{ intervalMs: 5000, job: { type: 'noop' }, overlap: 'sometimes' }, 'overlap'],
  ])('refuses %j, naming %s', async (body, field) => {
    const res = await call('POST', '/v1/schedules', body);
    expect(res.status).toBe(400);
    const problem = await readJson(res);
    expect(problem.code).toBe('VALIDATION_FAILED');
    expect(problem.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('pauses, changes and resumes a schedule, each change an event with the next revision; a no-op changes nothing', async () => {
    const { id } = await readJson(await call('POST', '/v1/schedules', { intervalMs: 60_000, job: { type: 'noop' } }));

    const paused = await readJson(await call('PATCH', `/v1/schedules/${id}`, { paused: true }));
    expect(paused).toMatchObject({ status: 'paused', revision: 2, nextFireTimes: [] });
    const changed = await readJson(
      await call('PATCH', `/v1/schedules/${id}`, { cron: '0 9 * * 1-5', timeZone: 'America/New_York', catchUp: 'all' }),
    );
    expect(changed).toMatchObject({
      status: 'paused',
      revision: 3,
      cron: '0 9 * * 1-5',
      intervalMs: null,
      catchUp: 'all',
    });
    const resumed = await readJson(await call('PATCH', `/v1/schedules/${id}`, { paused: false }));
    expect(resumed).toMatchObject({ status: 'active', revision: 4 });
    expect(resumed.nextFireTimes).toHaveLength(5);
    const same = await readJson(await call('PATCH', `/v1/schedules/${id}`, { catchUp: 'all' }));
    expect(same.revision).toBe(4);

    await waitFor(() => eventsOf(id).length === 4, { description: 'four events of the schedule' });
    expect(eventsOf(id).map((e) => e.type)).toEqual([
      'ScheduleCreated',
      'SchedulePaused',
      'ScheduleUpdated',
      'ScheduleResumed',
    ]);
    expect((await call('PATCH', `/v1/schedules/${id}`, { paused: true }, 'token-b')).status).toBe(404);
  });

  it('deletes a schedule: 204, then 404 for every read and change', async () => {
    const { id } = await readJson(await call('POST', '/v1/schedules', { intervalMs: 5000, job: { type: 'noop' } }));

    expect((await call('DELETE', `/v1/schedules/${id}`, undefined, 'token-b')).status).toBe(404);
    expect((await call('DELETE', `/v1/schedules/${id}`)).status).toBe(204);
    expect((await call('GET', `/v1/schedules/${id}`)).status).toBe(404);
    expect((await call('PATCH', `/v1/schedules/${id}`, { paused: true })).status).toBe(404);
    expect((await call('DELETE', `/v1/schedules/${id}`)).status).toBe(404);
    await waitFor(() => eventsOf(id).at(-1)?.type === 'ScheduleDeleted', { description: 'ScheduleDeleted in Kafka' });
  });

  it('lists the tenant’s schedules from the projection, oldest first, a page at a time, without deleted ones', async () => {
    const tenantId = 'tenant-list';
    const created = Array.from({ length: 3 }, (_, i) =>
      aScheduleCreated({ tenantId, scheduleId: `00000000-0000-7000-8000-00000000000${i}` }),
    );
    const states = created.map((e) => evolveSchedule(null, e)!);
    states[2] = { ...states[2]!, status: 'deleted' };
    await collections.schedules.insertMany(
      states.map((s, i) => ({ ...s, _id: s.id, position: { partition: 0, offset: i } })),
    );
    const tokens = new Map([...stack.deps.tokens, ['token-list', tenantId]]);
    const listing = (
      await stack.start({
        tokens,
        schedules: {
          publisher,
          cache: createScheduleCache(stack.redis, { keyPrefix: stack.ns.redisPrefix, ttlSeconds: 60 }),
          schedules: collections.schedules,
        },
      })
    ).baseUrl;
    const page = async (query: string) =>
      readJson(await fetch(`${listing}/v1/schedules${query}`, { headers: { authorization: 'Bearer token-list' } }));

    const first = await page('?limit=1');
    expect(first.items.map((s: { id: string }) => s.id)).toEqual([states[0]!.id]);
    const second = await page(`?limit=1&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ items: [{ id: states[1]!.id }], nextCursor: null });
  });

  it('shows the jobs of the latest fire times', async () => {
    const { id } = await readJson(await call('POST', '/v1/schedules', { cron: '* * * * * *', job: { type: 'noop' } }));
    await waitFor(async () => (await readJson(await call('GET', `/v1/schedules/${id}`))).nextFireTimes.length === 5);
    const fireAt = Math.floor(Date.now() / 1000) * 1000 + 2000;
    await waitFor(() => Date.now() > fireAt, { timeoutMs: 5000 });
    const jobId = scheduledJobId(id, fireAt);
    const job = evolve(null, aJobRequested({ jobId, tenantId: 'tenant-a' }))!;
    await stack.collections.jobs.insertOne({ ...job, _id: jobId, position: { partition: 0, offset: 0 } });

    const view = await readJson(await call('GET', `/v1/schedules/${id}`));
    expect(view.recentJobs).toContainEqual({ id: jobId, fireAt: new Date(fireAt).toISOString(), status: 'pending' });
  });
  describe('Idempotency-Key', () => {
    const create = (body: unknown, key: string, url = base) =>
      fetch(`${url}/v1/schedules`, {
        method: 'POST',
        headers: { authorization: 'Bearer token-a', 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
    /** The ScheduleCreated events in the log of the schedules a request named `name` created. */
    const createdNamed = (name: string) => events.filter((e) => e.type === 'ScheduleCreated' && e.data.name === name);
    const aBody = (name: string) => ({ name, intervalMs: 60_000, job: { type: 'noop' } });

    it('answers the same key and body with the schedule the first request created, as it is now', async () => {
      const key = `k-${randomUUID()}`;
      const body = aBody(`replayed-${key}`);
      const first = await create(body, key);
      expect(first.status).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();
      const { id } = await readJson(first);
      expect((await call('PATCH', `/v1/schedules/${id}`, { paused: true })).status).toBe(200);

      const again = await create({ job: { type: 'noop' }, intervalMs: 60_000, name: body.name }, key);

      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('location')).toBe(`/v1/schedules/${id}`);
      expect(await readJson(again)).toMatchObject({ id, status: 'paused', revision: 2, name: body.name });
      await tapCaughtUp();
      expect(createdNamed(body.name).map((e) => e.scheduleId)).toEqual([id]);
    });

    it('refuses the same key with another body with 409, and publishes nothing', async () => {
      const key = `k-${randomUUID()}`;
      const { id } = await readJson(await create(aBody(`first-${key}`), key));

      const other = await create(aBody(`other-${key}`), key);

      expect(other.status).toBe(409);
      expect(await readJson(other)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
      await tapCaughtUp();
      expect(createdNamed(`other-${key}`)).toEqual([]);
      expect(eventsOf(id)).toHaveLength(1);
    });

    it('refuses a key a job was created with, and a job with a schedule’s key, with 409', async () => {
      const jobKey = `k-${randomUUID()}`;
      const job = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: 'Bearer token-a', 'content-type': 'application/json', 'idempotency-key': jobKey },
        body: JSON.stringify({ type: 'noop' }),
      });
      expect(job.status).toBe(202);

      const schedule = await create(aBody(`after-a-job-${jobKey}`), jobKey);

      expect(schedule.status).toBe(409);
      expect(await readJson(schedule)).toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
        detail: 'this Idempotency-Key was used for a job, not a schedule',
      });

      const scheduleKey = `k-${randomUUID()}`;
      expect((await create(aBody(`before-a-job-${scheduleKey}`), scheduleKey)).status).toBe(201);
      const jobAfter = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: {
          authorization: 'Bearer token-a',
          'content-type': 'application/json',
          'idempotency-key': scheduleKey,
        },
        body: JSON.stringify({ type: 'noop' }),
      });
      expect(jobAfter.status).toBe(409);
      expect(await readJson(jobAfter)).toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
        detail: 'this Idempotency-Key was used for a schedule, not a job',
      });
      await tapCaughtUp();
      expect(createdNamed(`after-a-job-${jobKey}`)).toEqual([]);
    });

    it('keeps a key for another tenant apart', async () => {
      const key = `k-${randomUUID()}`;
      const body = aBody(`tenants-${key}`);
      const a = await readJson(await create(body, key));
      const b = await fetch(`${base}/v1/schedules`, {
        method: 'POST',
        headers: { authorization: 'Bearer token-b', 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });

      expect(b.status).toBe(201);
      expect(b.headers.get('idempotent-replayed')).toBeNull();
      expect((await readJson(b)).id).not.toBe(a.id);
    });

    it('creates one schedule when the first request found Kafka away and the retry has the same key', async () => {
      const kafka = createKafka({
        brokers: testInfra().brokers,
        clientId: 'test-schedules-down',
        logger: createLogger({ service: 'test', level: 'error' }),
      });
      // Never connected: every publish fails as it does when Kafka is away.
      const down = createKafkaSchedulePublisher(kafka, { topic: stack.topics.schedules, timeoutMs: 5000 });
      const downApp = await listenApp({ ...stack.deps, schedules: schedulesDeps(down) });
      const key = `k-${randomUUID()}`;
      const body = aBody(`down-${key}`);
      try {
        const res = await create(body, key, downApp.baseUrl);
        expect(res.status).toBe(503);
        expect(await readJson(res)).toMatchObject({ code: 'KAFKA_UNAVAILABLE' });
      } finally {
        await downApp.close();
      }
      await tapCaughtUp();
      expect(createdNamed(body.name)).toEqual([]);

      const retry = await create(body, key);
      const again = await create(body, key);

      expect([retry.status, again.status]).toEqual([201, 201]);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      const { id } = await readJson(retry);
      expect((await readJson(again)).id).toBe(id);
      await waitFor(() => createdNamed(body.name).length > 0, { description: 'the ScheduleCreated in the log' });
      await tapCaughtUp();
      expect(createdNamed(body.name).map((e) => e.scheduleId)).toEqual([id]);
      expect((await readJson(await call('GET', `/v1/schedules/${id}`))).revision).toBe(1);
    });

    it('publishes the same ScheduleCreated again when a request that failed after Kafka took it is retried', async () => {
      // Kafka acknowledges too late: the client got a 503, and the schedule is in the log all the same.
      const late: SchedulePublisher = {
        publish: async (published) => {
          await publisher.publish(published);
          throw new JoblineError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge within 5000 ms', { retryable: true });
        },
      };
      const lateApp = await listenApp({ ...stack.deps, schedules: schedulesDeps(late) });
      const key = `k-${randomUUID()}`;
      const body = aBody(`late-${key}`);
      try {
        expect((await create(body, key, lateApp.baseUrl)).status).toBe(503);
      } finally {
        await lateApp.close();
      }
      await waitFor(() => createdNamed(body.name).length === 1, { description: 'the late schedule in the log' });
      const [first] = createdNamed(body.name);

      const retry = await create(body, key);

      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(await readJson(retry)).toMatchObject({ id: first!.scheduleId, revision: 1 });
      await tapCaughtUp();
      // Published again (nothing cached, the projection not folded) or found: either way one schedule, one event id.
      expect(new Set(createdNamed(body.name).map((e) => `${e.scheduleId}:${e.eventId}`))).toEqual(
        new Set([`${first!.scheduleId}:${first!.eventId}`]),
      );
    });

    it('answers 404 for a key whose schedule was deleted since, and does not bring it back', async () => {
      const key = `k-${randomUUID()}`;
      const body = aBody(`deleted-${key}`);
      const { id } = await readJson(await create(body, key));
      expect((await call('DELETE', `/v1/schedules/${id}`)).status).toBe(204);

      const again = await create(body, key);

      expect(again.status).toBe(404);
      expect(await readJson(again)).toMatchObject({ code: 'SCHEDULE_NOT_FOUND' });
      await tapCaughtUp();
      expect(eventsOf(id).map((e) => e.type)).toEqual(['ScheduleCreated', 'ScheduleDeleted']);
    });
  });
});
