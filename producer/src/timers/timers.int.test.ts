import { readJson, tapEvents } from '@jobline/libs/testing';
import { startTestApp, type TestApp } from '../testing/test-app';

const HOOK = 'https://hooks.example.com/timers';

describe('timers over HTTP against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let base: string;
  let tap: Awaited<ReturnType<typeof tapEvents>>;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-timers', eventPartitions: 3 });
    base = (await stack.start({ maxBodyBytes: 200_000 })).baseUrl;
    tap = await tapEvents(stack.kafka, stack.topics.events);
  });

  afterAll(async () => {
    await tap.stop();
    await stack.close();
  });

  const post = (path: string, body: unknown, token = 'token-a', headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (path: string, token = 'token-a') =>
    fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const eventsInLog = () => stack.eventsInLog();

  it('creates a timer as an http job in Kafka and answers 201 with the time left', async () => {
    const before = Date.now();
    const res = await post('/v1/timers', { url: HOOK, minutes: 10, seconds: 5, payload: { order: 42 } });

    expect(res.status).toBe(201);
    const timer = await readJson(res);
    expect(res.headers.get('location')).toBe(`/v1/timers/${timer.id}`);
    expect(timer).toEqual({ id: expect.any(String), status: 'scheduled', runAt: expect.any(String), timeLeft: 605 });
    const due = Date.parse(timer.runAt);
    expect(due).toBeGreaterThanOrEqual(before + 605_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 605_000);

    const [event] = await tap.forJob(timer.id, (e) => e.length >= 1);
    expect(event).toMatchObject({
      type: 'JobRequested',
      tenantId: 'tenant-a',
      data: {
        type: 'http',
        payload: { method: 'POST', url: HOOK, body: { id: timer.id, payload: { order: 42 } } },
        runAt: timer.runAt,
        metadata: { 'jobline-timer': timer.runAt },
      },
    });

    const read = await get(`/v1/timers/${timer.id}`);
    expect(read.status).toBe(200);
    const view = await readJson(read);
    expect(view).toMatchObject({ id: timer.id, status: 'scheduled', runAt: timer.runAt });
    expect(view.timeLeft).toBeGreaterThan(600);
    expect(view.timeLeft).toBeLessThanOrEqual(605);
    expect(await readJson(await get(`/v1/jobs/${timer.id}`))).toMatchObject({ type: 'http', status: 'scheduled' });
  });

  it('is cancelled through the job cancel endpoint', async () => {
    const timer = await readJson(await post('/v1/timers', { url: HOOK, hours: 1 }));

    const cancelled = await post(`/v1/jobs/${timer.id}/cancel`, {});

    expect(cancelled.status).toBe(202);
    expect(await readJson(cancelled)).toMatchObject({ id: timer.id, type: 'http', status: 'cancelled' });
    await tap.forJob(timer.id, (events) => events.some((e) => e.type === 'JobCancelled'));
  });

  it('answers 404 for another tenant’s timer, for a job that is not a timer and for an id that is no UUID', async () => {
    const timer = await readJson(
      await post('/v1/timers', { url: HOOK, runAt: new Date(Date.now() + 60_000).toISOString() }),
    );
    const job = await readJson(await post('/v1/jobs', { type: 'http', payload: { url: HOOK }, delayMs: 60_000 }));

    for (const [path, token] of [
      [`/v1/timers/${timer.id}`, 'token-b'],
      [`/v1/timers/${job.id}`, 'token-a'],
      ['/v1/timers/not-a-uuid', 'token-a'],
    ] as const) {
      const res = await get(path, token);
      expect(res.status).toBe(404);
      expect(await readJson(res)).toMatchObject({ code: 'JOB_NOT_FOUND' });
    }
  });

  it('replays the same timer for a repeated Idempotency-Key and refuses the key with another body', async () => {
    const body = { url: HOOK, seconds: 300, payload: 'once' };
    const headers = { 'idempotency-key': `timer-${stack.ns.database}` };
    const first = await post('/v1/timers', body, 'token-a', headers);
    const before = await eventsInLog();

    const again = await post('/v1/timers', body, 'token-a', headers);
    const other = await post('/v1/timers', { ...body, payload: 'twice' }, 'token-a', headers);

    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const [a, b] = [await readJson(first), await readJson(again)];
    expect(b).toMatchObject({ id: a.id, runAt: a.runAt });
    expect(other.status).toBe(409);
    expect(await readJson(other)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await eventsInLog()).toBe(before);
  });

  it.each([
    ['neither runAt nor a duration', 'runAt', { url: HOOK }],
    ['both runAt and a duration', 'runAt', { url: HOOK, runAt: '2030-01-01T00:00:00Z', hours: 1 }],
    ['a private address', 'url', { url: 'http://10.0.0.7/t', seconds: 1 }],
    ['the metadata address', 'url', { url: 'http://169.254.169.254/latest', seconds: 1 }],
    ['a negative duration', 'minutes', { url: HOOK, minutes: -1 }],
    ['a duration beyond a year', 'hours', { url: HOOK, hours: 9000 }],
    ['a payload over the body bound', 'payload', { url: HOOK, seconds: 1, payload: 'x'.repeat(70_000) }],
    ['an unknown field', '(body)', { url: HOOK, seconds: 1, headers: {} }],
  ])('refuses %s with a 400 naming %s, and publishes nothing', async (_name, field, body) => {
    const before = await eventsInLog();

    const res = await post('/v1/timers', body);

    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = await readJson(res);
    expect(problem).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    expect(await eventsInLog()).toBe(before);
  });

  it('refuses a body that is not JSON with a 415', async () => {
    const res = await fetch(`${base}/v1/timers`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-a', 'content-type': 'text/plain' },
      body: 'url=x',
    });
    expect(res.status).toBe(415);
  });

  it.each([
    ['a private address', 'http://192.168.0.1/hook'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['an IPv6 loopback', 'http://[::1]:8080/'],
  ])('refuses an http job whose payload.url is %s with a 400 naming payload.url', async (_name, url) => {
    const res = await post('/v1/jobs', { type: 'http', payload: { url } });
    expect(res.status).toBe(400);
    expect(await readJson(res)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [expect.objectContaining({ field: 'payload.url' })],
    });
  });
});
