import { randomUUID } from 'node:crypto';
import { createLogger, evolve } from '@jobline/libs';
import { readJson, tapEvents } from '@jobline/libs/testing';
import { MAX_PAYLOAD_DEPTH, jobRequestedEvent, parseCreateJob } from './create-job-request';
import { startTestApp, type TestApp } from '../testing/test-app';

/** The bounds this app is configured with, small so that a test reaches them with small requests. */
const MAX_BODY_BYTES = 16_384;
const MAX_PAYLOAD_BYTES = 2048;
const BATCH_MAX_JOBS = 5;
const HOUR_MS = 3_600_000;
const YEAR_MS = 366 * 24 * HOUR_MS;

/** What one request of the table sends: a body (JSON unless a string) and headers beside the token. */
interface Probe {
  method?: 'GET' | 'POST';
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();
const create = (body: unknown, headers?: Record<string, string>): Probe => ({ path: '/v1/jobs', body, headers });
const batch = (body: unknown): Probe => ({ path: '/v1/jobs/batch', body });
const list = (query: string): Probe => ({ method: 'GET', path: `/v1/jobs?${query}` });
const manyEntries = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('bounds on client input, answered with problem+json naming the field', () => {
  const logLines: string[] = [];
  let stack: TestApp;
  let base: string;
  let tap: Awaited<ReturnType<typeof tapEvents>>;

  beforeAll(async () => {
    const logger = createLogger({ service: 'producer', level: 'debug' });
    for (const transport of logger.transports) transport.silent = true;
    logger.on('data', (info: unknown) => logLines.push(JSON.stringify(info)));
    stack = await startTestApp({ clientId: 'test-input-bounds', logger });
    const app = await stack.start({
      batchMaxJobs: BATCH_MAX_JOBS,
      maxPayloadBytes: MAX_PAYLOAD_BYTES,
      tokens: new Map([['token-a', 'tenant-a']]),
      maxBodyBytes: MAX_BODY_BYTES,
      retryAfterSeconds: 1,
    });
    base = app.baseUrl;
    tap = await tapEvents(stack.kafka, stack.topics.events);
  });

  afterAll(async () => {
    await tap.stop();
    await stack.close();
  });

  const send = ({ method = 'POST', path, body, headers = {} }: Probe) =>
    fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: 'Bearer token-a',
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });

  /** Messages ever written to the event topic: unchanged means nothing reached Kafka. */
  const eventsInLog = () => stack.eventsInLog();

  const fieldsOf = (problem: { errors?: { field: string }[] }) => (problem.errors ?? []).map((e) => e.field);

  /** Asserts the answer is the problem, naming `field`, and that nothing reached Kafka. */
  async function expectRefused(probe: Probe, status: number, code: string, field: string) {
    const before = await eventsInLog();

    const res = await send(probe);

    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = await readJson(res);
    expect(problem).toMatchObject({
      status,
      code,
      type: `urn:jobline:problem:${code.toLowerCase().replaceAll('_', '-')}`,
    });
    expect(fieldsOf(problem)).toContain(field);
    expect(await eventsInLog()).toBe(before);
  }

  // prettier-ignore
  it.each<[string, Probe, number, string, string]>([
    ['a body over MAX_BODY_BYTES', create({ type: 'noop', metadata: { k: 'x'.repeat(MAX_BODY_BYTES) } }), 413, 'PAYLOAD_TOO_LARGE', '(body)'],
    ['a batch over MAX_BODY_BYTES', batch({ jobs: [{ type: 'noop', metadata: { k: 'x'.repeat(MAX_BODY_BYTES) } }] }), 413, 'PAYLOAD_TOO_LARGE', '(body)'],
    ['a body that is not JSON', create('type=noop', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'],
    ['a batch that is not JSON', { path: '/v1/jobs/batch', body: 'jobs', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'],
    ['no Content-Type', create('{"type":"noop"}', { 'content-type': '' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'],
    ['a charset JSON may not have', create('{"type":"noop"}', { 'content-type': 'application/json; charset=latin1' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type'],
    ['an unknown Content-Encoding', create('{"type":"noop"}', { 'content-encoding': 'zip' }), 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding'],
  ])('refuses %s', async (_name, probe, status, code, field) => {
    await expectRefused(probe, status, code, field);
  });

  // prettier-ignore
  it.each<[string, Probe, string]>([
    // the body as a whole
    ['malformed JSON', create('{"type":'), '(body)'],
    ['a JSON body that is not an object', create('"noop"'), '(body)'],
    ['a gzip body that does not inflate', create('{"type":"noop"}', { 'content-encoding': 'gzip' }), '(body)'],
    ['an unknown field', create({ type: 'noop', queue: 'urgent' }), '(body)'],
    ['a priority above 9', create({ type: 'noop', priority: 10 }), 'priority'],
    ['a priority that is not a whole number', create({ type: 'noop', priority: 2.5 }), 'priority'],
    // type and payload
    ['an unknown type', create({ type: 'teleport' }), 'type'],
    ['a type over 100 characters', create({ type: 'n'.repeat(101) }), 'type'],
    ['a payload over MAX_PAYLOAD_BYTES', create({ type: 'sleep', payload: { ms: 1, pad: 'x'.repeat(MAX_PAYLOAD_BYTES) } }), 'payload'],
    ['a payload nested too deeply', create(`{"type":"noop","payload":{"a":${nested(MAX_PAYLOAD_DEPTH)}}}`), 'payload'],
    ['a payload nested thousands deep', create(`{"type":"noop","payload":{"a":${nested(5000)}}}`), 'payload'],
    ['a payload that is not an object', create({ type: 'noop', payload: [] }), 'payload'],
    ['a payload field out of range', create({ type: 'sleep', payload: { ms: 1e308 } }), 'payload.ms'],
    // retries and timeouts
    ['maxAttempts 0', create({ type: 'noop', maxAttempts: 0 }), 'maxAttempts'],
    ['maxAttempts over 25', create({ type: 'noop', maxAttempts: 26 }), 'maxAttempts'],
    ['a fractional maxAttempts', create({ type: 'noop', maxAttempts: 2.5 }), 'maxAttempts'],
    ['maxAttempts as a string', create({ type: 'noop', maxAttempts: '3' }), 'maxAttempts'],
    ['timeoutMs 0', create({ type: 'noop', timeoutMs: 0 }), 'timeoutMs'],
    ['timeoutMs over a day', create({ type: 'noop', timeoutMs: 24 * HOUR_MS + 1 }), 'timeoutMs'],
    ['an unknown backoff type', create({ type: 'noop', backoff: { type: 'linear', delayMs: 5 } }), 'backoff.type'],
    ['a backoff delay over a day', create({ type: 'noop', backoff: { type: 'fixed', delayMs: 24 * HOUR_MS + 1 } }), 'backoff.delayMs'],
    ['a negative backoff delay', create({ type: 'noop', backoff: { type: 'fixed', delayMs: -1 } }), 'backoff.delayMs'],
    ['a backoff cap over a week', create({ type: 'noop', backoff: { type: 'fixed', delayMs: 1, maxDelayMs: 8 * 24 * HOUR_MS } }), 'backoff.maxDelayMs'],
    // schedule
    ['a runAt more than a year ahead', create({ type: 'noop', runAt: inFuture(YEAR_MS + HOUR_MS) }), 'runAt'],
    ['a runAt that is not an instant', create({ type: 'noop', runAt: 'tomorrow' }), 'runAt'],
    ['a runAt on a day that does not exist', create({ type: 'noop', runAt: '2027-02-30T00:00:00Z' }), 'runAt'],
    ['a delayMs more than a year', create({ type: 'noop', delayMs: YEAR_MS + 1 }), 'delayMs'],
    ['a negative delayMs', create({ type: 'noop', delayMs: -1 }), 'delayMs'],
    ['both runAt and delayMs', create({ type: 'noop', runAt: inFuture(HOUR_MS), delayMs: 5 }), 'delayMs'],
    // metadata
    ['51 metadata entries', create({ type: 'noop', metadata: manyEntries(51) }), 'metadata'],
    ['a metadata key over 100 characters', create({ type: 'noop', metadata: { ['k'.repeat(101)]: 'v' } }), `metadata.${'k'.repeat(101)}`],
    ['a metadata value over 1000 characters', create({ type: 'noop', metadata: { k: 'v'.repeat(1001) } }), 'metadata.k'],
    ['a metadata value that is not a string', create({ type: 'noop', metadata: { k: 1 } }), 'metadata.k'],
    // headers
    ['an Idempotency-Key over 255 characters', create({ type: 'noop' }, { 'idempotency-key': 'k'.repeat(256) }), 'Idempotency-Key'],
    ['an Idempotency-Key with a space', create({ type: 'noop' }, { 'idempotency-key': 'a b' }), 'Idempotency-Key'],
    ['an empty Idempotency-Key', create({ type: 'noop' }, { 'idempotency-key': '' }), 'Idempotency-Key'],
    // batches
    ['a batch over BATCH_MAX_JOBS', batch({ jobs: Array(BATCH_MAX_JOBS + 1).fill({ type: 'noop' }) }), 'jobs'],
    ['an empty batch', batch({ jobs: [] }), 'jobs'],
    ['a batch with a payload over MAX_PAYLOAD_BYTES', batch({ jobs: [{ type: 'noop' }, { type: 'noop', payload: { pad: 'x'.repeat(MAX_PAYLOAD_BYTES) } }] }), 'jobs.1.payload'],
    // the list's query
    ['limit 0', list('limit=0'), 'limit'],
    ['limit over 100', list('limit=101'), 'limit'],
    ['a limit that is not a number', list('limit=ten'), 'limit'],
    ['limit given twice', list('limit=5&limit=6'), 'limit'],
    ['status given twice', list('status=pending&status=failed'), 'status'],
    ['an unknown status, by its place in the list', list('status=pending,sleeping'), 'status.1'],
    ['a metadata filter given twice', list('metadata.team=red&metadata.team=blue'), 'metadata.team'],
    ['a metadata filter key with a dot', list('metadata.a.b=c'), 'metadata.a.b'],
    ['a garbage cursor', list('cursor=not-a-cursor!'), 'cursor'],
    ['a cursor that decodes to something else', list(`cursor=${Buffer.from('{"c":1}').toString('base64url')}`), 'cursor'],
    ['a cursor over 1000 characters', list(`cursor=${'a'.repeat(1001)}`), 'cursor'],
    ['a createdAfter that is not an instant', list('createdAfter=yesterday'), 'createdAfter'],
    ['an unknown parameter', list('colour=red'), 'colour'],
    ['a parameter named __proto__', list('__proto__=x'), '__proto__'],
    ['__proto__ given twice', list('__proto__=x&__proto__=y'), '__proto__'],
    // paths that are not valid percent-encoding
    ['an undecodable job id', { method: 'GET', path: '/v1/jobs/%E0%A4%A' }, '(path)'],
    ['an undecodable job id to /events', { method: 'GET', path: '/v1/jobs/%/events' }, '(path)'],
    ['an undecodable job id to cancel', { path: '/v1/jobs/%zz/cancel' }, '(path)'],
    ['an undecodable job id to retry', { path: '/v1/jobs/%ff/retry' }, '(path)'],
  ])('refuses %s with 400 VALIDATION_FAILED', async (_name, probe, field) => {
    await expectRefused(probe, 400, 'VALIDATION_FAILED', field);
  });

  it.each<[string, Probe]>([
    ['GET', { method: 'GET', path: '/v1/jobs/not-a-uuid' }],
    ['GET /events', { method: 'GET', path: '/v1/jobs/not-a-uuid/events' }],
    ['cancel', { path: '/v1/jobs/not-a-uuid/cancel' }],
    ['retry', { path: '/v1/jobs/12345/retry' }],
    ['GET with a UUID in upper case braces', { method: 'GET', path: `/v1/jobs/%7B${randomUUID().toUpperCase()}%7D` }],
    ['GET with an id of 10 000 characters', { method: 'GET', path: `/v1/jobs/${'9'.repeat(10_000)}` }],
  ])('answers a job id that is not a UUID with 404 (%s), and publishes nothing', async (_name, probe) => {
    const before = await eventsInLog();

    const res = await send(probe);

    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await readJson(res)).toMatchObject({ status: 404, code: 'JOB_NOT_FOUND' });
    expect(await eventsInLog()).toBe(before);
  });

  it('measures the payload to the byte: MAX_PAYLOAD_BYTES passes the size check, one more byte does not', async () => {
    // {"ms":1,"pad":"…"} padded to the limit in UTF-8 bytes, not characters (é is two); past the size check, sleep's
    // schema refuses `pad` as an unknown key.
    const padBytes = MAX_PAYLOAD_BYTES - '{"ms":1,"pad":""}'.length;
    const pad = 'é'.repeat(Math.floor(padBytes / 2)) + 'x'.repeat(padBytes % 2);
    const issuesFor = async (payload: unknown) =>
      (await readJson(await send(create({ type: 'sleep', payload })))).errors.map(
        (e: { field: string; code: string }) => `${e.field} ${e.code}`,
      );

    expect(await issuesFor({ ms: 1, pad })).toEqual(['payload unrecognized_keys']);
    expect(await issuesFor({ ms: 1, pad: `${pad}x` })).toEqual(['payload too_big']);
  });

  it('accepts the largest value of every bound at once', async () => {
    const res = await send(
      create({
        type: 'noop',
        maxAttempts: 25,
        timeoutMs: 24 * HOUR_MS,
        backoff: { type: 'exponential', delayMs: 24 * HOUR_MS, maxDelayMs: 7 * 24 * HOUR_MS },
        runAt: inFuture(YEAR_MS - HOUR_MS),
        metadata: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`${i}`.padEnd(100, 'k'), 'v'.repeat(100)])),
      }),
    );

    expect(res.status).toBe(202);
    expect(await readJson(res)).toMatchObject({ status: 'scheduled', maxAttempts: 25 });
  });

  it('runs a job whose runAt is in the past now: pending, not scheduled, with the runAt it was given', async () => {
    const res = await send(create({ type: 'noop', runAt: '2000-01-01T00:00:00+01:00' }));

    expect(res.status).toBe(202);
    const job = await readJson(res);
    expect(job).toMatchObject({ status: 'pending', runAt: '1999-12-31T23:00:00.000Z' });
    const [event] = await tap.forJob(job.id, (events) => events.length >= 1);
    expect(event).toMatchObject({ type: 'JobRequested', data: { runAt: '1999-12-31T23:00:00.000Z' } });
  });

  it('neither echoes nor logs an overlong X-Request-Id', async () => {
    const overlong = `req-${'x'.repeat(4000)}`;

    const res = await send({ method: 'GET', path: `/v1/jobs/${randomUUID()}`, headers: { 'x-request-id': overlong } });

    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain('x'.repeat(129));
  });

  it('filters on a metadata key named __proto__ like on any other key, instead of ignoring the filter', async () => {
    const request = parseCreateJob({ type: 'noop', metadata: { team: 'red' } });
    const job = evolve(null, jobRequestedEvent(request, 'tenant-a', new Date()))!;
    await stack.collections.jobs.insertOne({ ...job, _id: job.id, position: { partition: 0, offset: 0 } });

    const all = await readJson(await send(list('')));
    const red = await readJson(await send(list('metadata.team=red')));
    const proto = await readJson(await send(list('metadata.__proto__=red')));

    expect(all.items.map((j: { id: string }) => j.id)).toContain(job.id);
    expect(red.items.map((j: { id: string }) => j.id)).toEqual([job.id]);
    expect(proto.items).toEqual([]);
  });
});
