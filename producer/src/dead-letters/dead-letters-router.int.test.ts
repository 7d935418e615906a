import { readJson, tapEvents } from '@jobline/libs/testing';
import { startTestApp, type TestApp } from '../testing/test-app';

describe('POST /v1/dead-letters/redrive and /discard against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let base: string;
  let tap: Awaited<ReturnType<typeof tapEvents>>;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-dead-letters-api' });
    base = (await stack.start()).baseUrl;
    tap = await tapEvents(stack.kafka, stack.topics.events);
  });

  afterAll(async () => {
    await tap.stop();
    await stack.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: 'Bearer token-a', 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('creates a deadLetters.redrive job with the filter as its payload, answered once it is in Kafka', async () => {
    const filter = { type: 'http', code: 'OUTBOUND_NETWORK', from: '2026-01-01T00:00:00+01:00', maxPerSecond: 50 };

    const res = await post('/v1/dead-letters/redrive', filter);

    expect(res.status).toBe(202);
    const view = await readJson(res);
    expect(view).toMatchObject({ type: 'deadLetters.redrive', status: 'pending', progress: null, result: null });
    expect(res.headers.get('location')).toBe(`/v1/jobs/${view.id}`);
    const [requested] = await tap.forJob(view.id, (events) => events.length >= 1);
    expect(requested).toMatchObject({
      type: 'JobRequested',
      tenantId: 'tenant-a',
      data: { type: 'deadLetters.redrive', payload: filter },
    });
    expect(
      await readJson(await fetch(`${base}/v1/jobs/${view.id}`, { headers: { authorization: 'Bearer token-a' } })),
    ).toMatchObject({ id: view.id, type: 'deadLetters.redrive' });
  });

  it('creates a deadLetters.discard job with its reason', async () => {
    const res = await post('/v1/dead-letters/discard', { type: 'sleep', reason: 'replaced by v2' });

    expect(res.status).toBe(202);
    const view = await readJson(res);
    expect(view).toMatchObject({ type: 'deadLetters.discard' });
    const [requested] = await tap.forJob(view.id, (events) => events.length >= 1);
    expect(requested!.type === 'JobRequested' && requested!.data.payload).toEqual({
      type: 'sleep',
      reason: 'replaced by v2',
    });
  });

  it('takes an empty filter: every dead letter from before the request', async () => {
    expect((await post('/v1/dead-letters/redrive', {})).status).toBe(202);
  });

  it.each([
    ['an unknown field', { typ: 'http' }, '(body)'],
    ['a time range that ends before it starts', { from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'to'],
    ['an instant without an offset', { from: '2026-02-01T00:00:00' }, 'from'],
    ['a limit of 0', { limit: 0 }, 'limit'],
    ['a reason on a redrive', { reason: 'why not' }, '(body)'],
  ])('refuses %s, naming the field', async (_, body, field) => {
    const res = await post('/v1/dead-letters/redrive', body);

    expect(res.status).toBe(400);
    const problem = await readJson(res);
    expect(problem).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(problem.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('answers a repeated request with the same Idempotency-Key with the same bulk job, and refuses the key for the other action', async () => {
    const key = { 'Idempotency-Key': `redrive-${Date.now()}` };
    const first = await readJson(await post('/v1/dead-letters/redrive', { type: 'sleep' }, key));

    const again = await post('/v1/dead-letters/redrive', { type: 'sleep' }, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await readJson(again)).toMatchObject({ id: first.id });

    const discard = await post('/v1/dead-letters/discard', { type: 'sleep' }, key);
    expect(discard.status).toBe(409);
    expect(await readJson(discard)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });
});
