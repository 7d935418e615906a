import type { Env, JobEvent, JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess, type ServiceName } from './service-process';

const TOKEN = 'bulk-token';
const HEADERS = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

interface BulkView extends JobView {
  result: {
    action: 'redrive' | 'discard';
    matched: number;
    redriven?: number;
    discarded?: number;
    skipped: number;
    limitReached: boolean;
  } | null;
}

/**
 * Dead letters redriven and discarded in bulk, with producer, persister and runner as processes on real Kafka,
 * MongoDB and Redis: a bulk job acts on the dead letters of its filter and on no other, each once, also when it is
 * asked for again, when a second one follows it, and when its runner is killed mid-way and the next runner runs it
 * again; discarded dead letters leave the dead letters and cannot be redriven.
 */
describe('dead letters in bulk', () => {
  const ns = testNamespace();
  const services = new Map<ServiceName, ServiceProcess>();
  let env: Env;
  let base: string;
  /** A loopback port nothing listens on: an `http` job to it fails with a network error. */
  let refusingPort: number;

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { ...HEADERS, ...headers }, body: JSON.stringify(body) });
  const get = async <T = unknown>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { headers: HEADERS });
    expect(res.status).toBe(200);
    return readJson(res) as Promise<T>;
  };
  const view = (id: string) => get<BulkView>(`/v1/jobs/${id}`);
  const eventsOf = async (id: string) => (await get<{ items: JobEvent[] }>(`/v1/jobs/${id}/events`)).items;

  /** Polls a job's view until `done` holds; a timeout names the view it showed last. */
  async function until(id: string, done: (v: BulkView) => boolean, what: string, timeoutMs = 60_000) {
    let last: BulkView | undefined;
    return waitFor(
      async () => {
        last = await view(id);
        return done(last) ? last : undefined;
      },
      { timeoutMs, intervalMs: 200, description: `job ${id} ${what}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}; it was ${JSON.stringify(last)}`);
    });
  }
  const untilStatus = (id: string, status: string) => until(id, (v) => v.status === status, status);

  /** Jobs that fail for good; each waited for until it is a dead letter. */
  async function deadLetters(n: number, body: Record<string, unknown>): Promise<string[]> {
    const ids = await Promise.all(
      Array.from({ length: n }, async () => {
        const res = await post('/v1/jobs', { maxAttempts: 1, ...body });
        expect(res.status).toBe(202);
        return ((await readJson(res)) as JobView).id;
      }),
    );
    await Promise.all(ids.map((id) => untilStatus(id, 'failed')));
    return ids;
  }
  /** Fails its first attempt for good, with HANDLER_FAILED; a second attempt (a redrive) completes. */
  const failsOnce = { type: 'sleep', payload: { ms: 10, failAttempts: 1, fail: 'fatal' } };

  async function bulk(action: 'redrive' | 'discard', filter: unknown, headers: Record<string, string> = {}) {
    const res = await post(`/v1/dead-letters/${action}`, filter, headers);
    expect(res.status).toBe(202);
    const created = (await readJson(res)) as BulkView;
    expect(res.headers.get('location')).toBe(`/v1/jobs/${created.id}`);
    return { res, created };
  }

  /** The `JobRetryRequested` events of a job's stored history. */
  const redrivesOf = async (id: string) => (await eventsOf(id)).filter((e) => e.type === 'JobRetryRequested');

  beforeAll(async () => {
    const port = await freePort();
    refusingPort = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      ...ns.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_TOKENS: `${TOKEN}:bulk`,
      // The refusing port is on loopback, which outbound requests may only reach when allowed.
      OUTBOUND_ALLOWLIST: '127.0.0.1/32',
      // A killed runner's partitions move to the restarted one after this long.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      // The test polls many jobs' views.
      RATE_LIMIT_PER_MINUTE: '100000',
    };
    services.set('producer', await ServiceProcess.start('producer', env));
    const [consumer, runner] = await Promise.all([
      ServiceProcess.start('consumer', env),
      ServiceProcess.start('runner', env),
    ]);
    services.set('consumer', consumer);
    services.set('runner', runner);
  });

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop()));
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('redrives each dead letter of a type, error code and time range exactly once, asked twice and run twice', async () => {
    const before = await deadLetters(1, failsOnce);
    const from = new Date().toISOString();
    const targets = await deadLetters(6, failsOnce);
    const otherCode = await deadLetters(2, { type: 'sleep', payload: { ms: 5000 }, timeoutMs: 50 });
    const otherType = await deadLetters(2, { type: 'http', payload: { url: `http://127.0.0.1:${refusingPort}/` } });
    expect((await view(otherCode[0]!)).error?.code).toBe('JOB_TIMED_OUT');
    const filter = { type: 'sleep', code: 'HANDLER_FAILED', from };
    const key = { 'Idempotency-Key': `bulk-${ns.id}` };

    const { created: first } = await bulk('redrive', filter, key);
    const { res: replayed, created: again } = await bulk('redrive', filter, key);

    expect(first).toMatchObject({ type: 'deadLetters.redrive', status: 'pending' });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    expect(again.id).toBe(first.id);
    const done = await untilStatus(first.id, 'completed');
    expect(done.result).toEqual({
      action: 'redrive',
      filter: { type: 'sleep', code: 'HANDLER_FAILED', from, to: done.createdAt },
      matched: 6,
      redriven: 6,
      skipped: 0,
      limitReached: false,
    });
    expect(done.progress).toMatchObject({ current: 6, total: 6 });
    // Each redriven job runs its second attempt, which succeeds.
    for (const id of targets) expect(await untilStatus(id, 'completed')).toMatchObject({ attempts: 2 });

    // The same filter again, as a second bulk job: the jobs redriven are no dead letters any more.
    const { created: second } = await bulk('redrive', filter);
    expect((await untilStatus(second.id, 'completed')).result).toMatchObject({ matched: 0, redriven: 0 });

    for (const id of targets) {
      const redrives = await redrivesOf(id);
      expect(redrives).toHaveLength(1);
      expect(redrives[0]!.data).toEqual({ attemptLimit: 2, bulkJobId: first.id });
    }
    for (const id of [...before, ...otherCode, ...otherType]) {
      expect(await view(id)).toMatchObject({ status: 'failed' });
      expect(await redrivesOf(id)).toEqual([]);
    }
    const listed = await get<{ items: BulkView[] }>('/v1/jobs?type=deadLetters.redrive');
    expect(listed.items.map((j) => [j.id, j.status, j.result?.redriven])).toEqual([
      [second.id, 'completed', 0],
      [first.id, 'completed', 6],
    ]);
  });

  it('redrives each dead letter once when the runner running the bulk job is killed mid-way and the next one runs it again', async () => {
    const targets = await deadLetters(10, { ...failsOnce, metadata: { wave: 'killed' } });
    const from = new Date(
      Math.min(...(await Promise.all(targets.map(async (id) => Date.parse((await view(id)).createdAt))))),
    );

    // One redrive a second: the runner is killed while the bulk job is part of the way through.
    const { created } = await bulk('redrive', { type: 'sleep', from: from.toISOString(), maxPerSecond: 1 });
    await until(created.id, (v) => v.status === 'processing' && (v.progress?.current ?? 0) >= 2, 'part of the way');
    expect((await view(created.id)).progress!.current).toBeLessThan(10);
    expect(await services.get('runner')!.stop('SIGKILL')).toBeNull();
    services.set('runner', await ServiceProcess.start('runner', env));

    const done = await until(created.id, (v) => v.status === 'completed', 'completed by the next runner', 90_000);
    expect(done.result).toMatchObject({ matched: 10, redriven: 10, skipped: 0 });
    // The bulk job ran twice: its first attempt was started again by the runner that took over.
    const starts = (await eventsOf(created.id)).filter((e) => e.type === 'JobStarted');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(starts.map((e) => e.type === 'JobStarted' && e.data.attempt))).toEqual(new Set([1]));
    for (const id of targets) {
      // Redriven once each, by whichever runner, and run to completion.
      await untilStatus(id, 'completed');
      expect((await redrivesOf(id)).map((e) => e.data)).toEqual([{ attemptLimit: 2, bulkJobId: created.id }]);
    }
  });

  it('discards the dead letters of a filter: out of the dead letters and the stats, kept as discarded, never redriven', async () => {
    const targets = await deadLetters(3, { type: 'http', payload: { url: `http://127.0.0.1:${refusingPort}/gone` } });
    const code = (await view(targets[0]!)).error!.code;
    const kept = await deadLetters(1, failsOnce);
    const from = new Date(Date.parse((await view(targets[0]!)).createdAt)).toISOString();

    const { created } = await bulk('discard', { type: 'http', code, from, reason: 'the partner endpoint is gone' });

    const done = await untilStatus(created.id, 'completed');
    expect(done.result).toMatchObject({ action: 'discard', matched: 3, discarded: 3, skipped: 0 });
    for (const id of targets) {
      expect(await untilStatus(id, 'discarded')).toMatchObject({ error: { code } });
      const discarded = (await eventsOf(id)).filter((e) => e.type === 'JobDiscarded');
      expect(discarded.map((e) => e.data)).toEqual([
        { attempt: 1, reason: 'the partner endpoint is gone', bulkJobId: created.id },
      ]);
      const retry = await post(`/v1/jobs/${id}/retry`, {});
      expect(retry.status).toBe(409);
      expect(await readJson(retry)).toMatchObject({ code: 'JOB_NOT_RETRYABLE' });
    }
    const failed = await get<{ items: JobView[] }>('/v1/jobs?status=failed&limit=100');
    expect(failed.items.map((j) => j.id)).toEqual(expect.arrayContaining(kept));
    expect(failed.items.map((j) => j.id)).not.toEqual(expect.arrayContaining([targets[0]]));
    const discardedList = await get<{ items: JobView[] }>('/v1/jobs?status=discarded&type=http');
    expect(discardedList.items.map((j) => j.id).sort()).toEqual([...targets].sort());
    const stats = await get<{ deadLetters: { type: string; code: string; count: number }[] }>('/v1/stats');
    expect(stats.deadLetters.filter((g) => g.type === 'http' && g.code === code)).toEqual(
      // The dead letters of the first test's other type are still waiting; the discarded ones are not counted.
      [{ type: 'http', code, count: 2 }],
    );
  });
});
