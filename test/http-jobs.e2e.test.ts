import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCallbackSignature, type JobView } from '@jobline/libs';
import { readJson, testNamespace, waitFor } from '@jobline/libs/testing';
import { startHttpReceiver, type Answer, type HttpReceiver } from './http-receiver';
import { settledView } from './job-settled';
import { startJobline, type Jobline } from './service-process';

const AUTH = { authorization: 'Bearer http-token' };
/** How late a timer may fire on a loaded test machine; the runner aims for milliseconds. */
const TIMER_LATENESS_MS = 5_000;

interface TimerView {
  id: string;
  status: string;
  runAt: string;
  timeLeft: number;
}

describe('http jobs and timers through the whole pipeline, against a local receiver', () => {
  const ns = testNamespace();
  let jobline: Jobline;
  let base: string;
  let receiver: HttpReceiver;
  let hooks: string;
  let blobDir: string;
  /** Answers to give per path, in order; then 200 with `{"ok":true}`. */
  const script: Record<string, Answer[]> = {
    '/report': [{ status: 200, headers: { 'content-type': 'text/csv' }, body: 'id,name\n1,ada\n' }],
    '/flaky': [{ status: 500 }, { status: 502 }],
    '/busy': [{ status: 429, headers: { 'retry-after': '2' } }],
    '/gone': [{ status: 404 }, { status: 404 }, { status: 404 }],
  };

  const post = async (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const getJson = async (path: string) => readJson(await fetch(`${base}${path}`, { headers: AUTH }));
  const hitsOf = (path: string) => receiver.hitsOf(path);
  const finished = (id: string) => settledView(`${base}/v1/jobs/${id}`, AUTH, 30_000);

  beforeAll(async () => {
    receiver = await startHttpReceiver((path) => {
      const answer = script[path]?.shift() ?? { status: 200, headers: { 'content-type': 'application/json' } };
      return { ...answer, body: answer.body ?? (answer.status === 200 ? '{"ok":true}' : '') };
    });
    hooks = receiver.url;
    blobDir = await mkdtemp(join(tmpdir(), 'jobline-http-e2e-'));
    jobline = await startJobline(ns, {
      API_TOKENS: 'http-token:webhooks,other-token:others',
      // Runner and producer share the file blob store that stored responses go to.
      BLOB_STORE: 'file',
      BLOB_DIR: blobDir,
      CALLBACK_SIGNING_KEY: 'e2e-http-jobs-signing-key',
      // The receiver is on loopback, which outbound requests may only reach when allowed.
      OUTBOUND_ALLOWLIST: '127.0.0.1/32',
    });
    base = jobline.base;
  });

  afterAll(async () => {
    await jobline.stop();
    await receiver.close();
    await rm(blobDir, { recursive: true, force: true });
  });

  it('fires a timer on time, signed, with its id and payload, while its time left counts down to 0', async () => {
    const res = await post('/v1/timers', { url: `${hooks}/timer`, seconds: 4, payload: { order: 7 } });
    expect(res.status).toBe(201);
    const timer = (await readJson(res)) as TimerView;
    const due = Date.parse(timer.runAt);
    expect(timer.timeLeft).toBeGreaterThanOrEqual(3);

    const seen: number[] = [];
    const [hit] = await waitFor(
      async () => {
        seen.push(((await getJson(`/v1/timers/${timer.id}`)) as TimerView).timeLeft);
        return hitsOf('/timer').length > 0 ? hitsOf('/timer') : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the timer to fire' },
    );

    expect(hit!.at).toBeGreaterThanOrEqual(due);
    expect(hit!.at).toBeLessThanOrEqual(due + TIMER_LATENESS_MS);
    expect(JSON.parse(hit!.body)).toEqual({ id: timer.id, payload: { order: 7 } });
    expect(hit!.headers).toMatchObject({
      'content-type': 'application/json',
      'idempotency-key': timer.id,
      'jobline-job-id': timer.id,
    });
    const { secret } = (await getJson('/v1/callbacks/secret')) as { secret: string };
    const signature = hit!.headers['jobline-signature'] as string;
    expect(verifyCallbackSignature(secret, signature, hit!.body, Math.floor(Date.now() / 1000)).ok).toBe(true);
    expect(verifyCallbackSignature(secret, signature, hit!.body.replace('7', '8'), Date.now() / 1000).ok).toBe(false);

    // While it waited, the time left never grew and was above 0; once fired and completed it is 0.
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
    const done = await waitFor(
      async () => {
        const view = (await getJson(`/v1/timers/${timer.id}`)) as TimerView;
        return view.status === 'completed' ? view : undefined;
      },
      { timeoutMs: 30_000, description: 'the timer to complete' },
    );
    expect(done).toEqual({ id: timer.id, status: 'completed', runAt: timer.runAt, timeLeft: 0 });
    expect(hitsOf('/timer')).toHaveLength(1);
  });

  it('retries an http job on 5xx with the same idempotency key, then completes with the response', async () => {
    const res = await post('/v1/jobs', {
      type: 'http',
      payload: { url: `${hooks}/flaky`, body: { n: 1 } },
      maxAttempts: 5,
      backoff: { type: 'fixed', delayMs: 100 },
    });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;

    const view = await finished(job.id);

    expect(view).toMatchObject({
      status: 'completed',
      attempts: 3,
      result: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}', bodyBytes: 11 },
    });
    const flaky = hitsOf('/flaky');
    expect(flaky).toHaveLength(3);
    expect(new Set(flaky.map((h) => h.headers['idempotency-key']))).toEqual(new Set([job.id]));
    expect(flaky.map((h) => h.body)).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
  });

  it('fails an http job for good on a 404, after one attempt', async () => {
    const job = (await readJson(
      await post('/v1/jobs', { type: 'http', payload: { url: `${hooks}/gone` }, maxAttempts: 3 }),
    )) as JobView;

    const view = await finished(job.id);

    expect(view).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'OUTBOUND_UNEXPECTED_STATUS', retryable: false },
    });
    expect(view.error!.message).toContain('answered 404');
    expect(hitsOf('/gone')).toHaveLength(1);
  });

  it('waits at least the Retry-After of a 429 before the next attempt', async () => {
    const job = (await readJson(
      await post('/v1/jobs', {
        type: 'http',
        payload: { url: `${hooks}/busy`, method: 'POST' },
        maxAttempts: 3,
        backoff: { type: 'fixed', delayMs: 100 },
      }),
    )) as JobView;

    const view = await finished(job.id);

    expect(view).toMatchObject({ status: 'completed', attempts: 2 });
    const [first, second] = hitsOf('/busy');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(2000);
    const { items } = (await getJson(`/v1/jobs/${job.id}/events`)) as {
      items: { type: string; occurredAt: string; data: { nextRunAt?: string; error?: { retryable: boolean } } }[];
    };
    const failed = items.find((e) => e.type === 'JobAttemptFailed')!;
    expect(failed.data.error).toMatchObject({ retryable: true });
    expect(Date.parse(failed.data.nextRunAt!) - Date.parse(failed.occurredAt)).toBeGreaterThanOrEqual(2000);
  });

  it('keeps the response of a job with store: true, served to its tenant at resultUrl', async () => {
    const job = (await readJson(
      await post('/v1/jobs', { type: 'http', payload: { url: `${hooks}/report`, store: true } }),
    )) as JobView;

    const view = await finished(job.id);

    expect(view).toMatchObject({
      status: 'completed',
      resultUrl: `/v1/jobs/${job.id}/result`,
      result: { status: 200, headers: { 'content-type': 'text/csv' }, bodyBytes: 14 },
    });
    expect(view.result).not.toHaveProperty('body');
    const res = await fetch(`${base}${view.resultUrl!}`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
    expect(await res.text()).toBe('id,name\n1,ada\n');

    const other = await fetch(`${base}${view.resultUrl!}`, { headers: { authorization: 'Bearer other-token' } });
    expect(other.status).toBe(404);
    const unstored = (await readJson(
      await post('/v1/jobs', { type: 'http', payload: { url: `${hooks}/plain` } }),
    )) as JobView;
    await finished(unstored.id);
    const none = await fetch(`${base}/v1/jobs/${unstored.id}/result`, { headers: AUTH });
    expect(none.status).toBe(404);
    expect(await readJson(none)).toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  it.each([
    ['a private address', 'http://10.0.0.1/hook'],
    ['the metadata address', 'http://169.254.169.254/latest/meta-data'],
    ['a private address behind an IPv4-mapped IPv6 literal', 'http://[::ffff:192.168.1.1]/'],
  ])('refuses %s as payload.url at the edge with a 400 naming it', async (_name, url) => {
    const res = await post('/v1/jobs', { type: 'http', payload: { url } });

    expect(res.status).toBe(400);
    expect(await readJson(res)).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [expect.objectContaining({ field: 'payload.url' })],
    });
  });
});
