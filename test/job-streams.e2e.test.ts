import type { JobView } from '@jobline/libs';
import { readJson, testNamespace, waitFor } from '@jobline/libs/testing';
import { startJobline, type Jobline } from './service-process';
import { openSse } from './sse-client';

const A = { authorization: 'Bearer tenant-a-token' };
const B = { authorization: 'Bearer tenant-b-token' };

/** The statuses a stream went through, with repeats in a row (progress) collapsed. */
function statusPath(views: readonly JobView[]): string[] {
  return views.map((v) => v.status).filter((status, i, all) => i === 0 || all[i - 1] !== status);
}

describe('live job updates over Server-Sent Events', () => {
  const ns = testNamespace();
  let jobline: Jobline;
  let base: string;

  const submit = async (headers: Record<string, string>, body: unknown): Promise<JobView> => {
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    return readJson(res);
  };
  const views = (events: readonly { data: string }[]) => events.map((e) => JSON.parse(e.data) as JobView);

  beforeAll(async () => {
    jobline = await startJobline(ns, {
      API_TOKENS: 'tenant-a-token:tenant-a,tenant-b-token:tenant-b',
      SSE_HEARTBEAT_MS: '500',
    });
    base = jobline.base;
  });

  afterAll(() => jobline.stop());

  it('sends every status of a job in order, ends after the terminal one, and resumes from Last-Event-ID', async () => {
    // Scheduled, then a failed first attempt retried after a backoff, then a success: five statuses in all.
    const job = await submit(A, {
      type: 'sleep',
      payload: { ms: 200, failAttempts: 1 },
      delayMs: 1000,
      backoff: { type: 'fixed', delayMs: 500 },
    });
    const stream = await openSse(`${base}/v1/jobs/${job.id}/stream`, A);
    expect([stream.status, stream.contentType]).toEqual([200, 'text/event-stream']);
    const events = await stream.waitForEnd();

    expect(events.every((e) => e.event === 'job')).toBe(true);
    const seen = views(events);
    expect(statusPath(seen)).toEqual(['scheduled', 'processing', 'scheduled', 'processing', 'completed']);
    expect(seen.at(-1)).toMatchObject({ id: job.id, status: 'completed', attempts: 2 });
    // Ids are log offsets: increasing, so a reconnecting client can say where it stopped.
    const ids = events.filter((e) => e.id !== undefined).map((e) => Number(e.id));
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    // Resuming after the first retry's scheduling sends exactly what followed it, in the same order.
    const firstRun = seen.findIndex((v) => v.status === 'processing');
    const resumeAfter = events.find((e, i) => i > firstRun && seen[i]!.status === 'scheduled')!;
    expect(resumeAfter.id).toBeDefined();
    const resumed = await openSse(`${base}/v1/jobs/${job.id}/stream`, { ...A, 'last-event-id': resumeAfter.id! });
    const rest = await resumed.waitForEnd();
    const expected = events.filter((e) => e.id !== undefined && Number(e.id) > Number(resumeAfter.id));
    expect(rest.map((e) => [e.id, JSON.parse(e.data).status])).toEqual(
      expected.map((e) => [e.id, JSON.parse(e.data).status]),
    );
    expect(statusPath(views(rest))).toEqual(['processing', 'completed']);

    // A client that saw the terminal view is told to stop reconnecting.
    const done = await openSse(`${base}/v1/jobs/${job.id}/stream`, { ...A, 'last-event-id': ids.at(-1)!.toString() });
    expect(done.status).toBe(204);

    // A fresh client of a finished job gets its final view and the end.
    const late = await openSse(`${base}/v1/jobs/${job.id}/stream`, A);
    expect(views(await late.waitForEnd()).map((v) => v.status)).toEqual(['completed']);
  });

  it("streams a tenant's changes, of one type when asked, and nothing of other tenants", async () => {
    const stream = await openSse(`${base}/v1/stream?type=noop`, A);
    expect(stream.status).toBe(200);
    const theirs = await submit(B, { type: 'noop' });
    const other = await submit(A, { type: 'sleep', payload: { ms: 1 } });
    const mine = await submit(A, { type: 'noop' });
    await stream.waitForEvents(1);
    await waitFor(() => views(stream.events).some((v) => v.id === mine.id && v.status === 'completed'), {
      timeoutMs: 30_000,
      description: 'the noop job to complete on the tenant stream',
    });
    stream.close();
    const seen = views(stream.events);
    expect(seen.every((v) => v.type === 'noop')).toBe(true);
    expect(seen.map((v) => v.id)).not.toContain(theirs.id);
    expect(seen.map((v) => v.id)).not.toContain(other.id);
    expect(statusPath(seen.filter((v) => v.id === mine.id))).toEqual(['pending', 'processing', 'completed']);
  });

  it("answers 404 for another tenant's job and 400 for a Last-Event-ID it never sent", async () => {
    const job = await submit(A, { type: 'noop' });
    const foreign = await openSse(`${base}/v1/jobs/${job.id}/stream`, B);
    expect([foreign.status, foreign.contentType]).toEqual([404, 'application/problem+json; charset=utf-8']);
    const bad = await openSse(`${base}/v1/jobs/${job.id}/stream`, { ...A, 'last-event-id': 'not-an-offset' });
    expect(bad.status).toBe(400);
    // A query parameter beside a valid header is checked too.
    const badQuery = await openSse(`${base}/v1/jobs/${job.id}/stream?lastEventId=%15x`, { ...A, 'last-event-id': '3' });
    expect(badQuery.status).toBe(400);
    const unauthenticated = await openSse(`${base}/v1/stream`, {});
    expect(unauthenticated.status).toBe(401);
  });
});
