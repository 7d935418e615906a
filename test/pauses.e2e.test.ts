import type { Env } from '@jobline/libs';
import { metricValue, readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { joblineEnv, ServiceProcess, type ServiceName } from './service-process';
import { MongoClient } from 'mongodb';

const SERVICES: ServiceName[] = ['producer', 'consumer', 'runner'];

interface JobView {
  id: string;
  type: string;
  status: string;
  attempts: number;
  startedAt: string | null;
}

/**
 * Pause and resume with producer, persister and runner as processes on real Kafka, MongoDB and Redis. A paused job
 * type's jobs stay `pending` (a scheduled one waits once due) while other types run, across a restart of all three
 * services, and start once resumed, in their order; a tenant paused as a whole holds every type, lets the attempt under
 * way finish, and leaves other tenants alone.
 */
describe('pause and resume across a full restart', () => {
  const ns = testNamespace();
  const services = new Map<ServiceName, ServiceProcess>();
  let env: Env;
  let base: string;

  const call = async (method: string, path: string, body?: unknown, token = 'acme-token') => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: await readJson(res) };
  };
  const submit = async (job: Record<string, unknown>, token?: string): Promise<string> => {
    const { status, body } = await call('POST', '/v1/jobs', job, token);
    expect(status).toBe(202);
    return body.id as string;
  };
  const job = async (id: string, token?: string): Promise<JobView> =>
    (await call('GET', `/v1/jobs/${id}`, undefined, token)).body;
  const statuses = async (ids: string[]) => Promise.all(ids.map(async (id) => (await job(id)).status));
  const allCompleted = (ids: string[], token?: string) =>
    waitFor(async () => (await Promise.all(ids.map((id) => job(id, token)))).every((j) => j.status === 'completed'), {
      timeoutMs: 30_000,
      description: `${ids.length} jobs completed`,
    });
  /** Jobs due that the runner holds without a slot: those of paused work, here. */
  const queued = async () => {
    const text = await (await fetch(`http://127.0.0.1:${services.get('runner')!.metricsPort}/metrics`)).text();
    return metricValue(text, 'jobline_runner_jobs_queued');
  };
  const startAll = async () => {
    for (const service of await Promise.all(SERVICES.map((name) => ServiceProcess.start(name, env)))) {
      services.set(service.name, service);
    }
  };
  const stopAll = async () => {
    const codes = await Promise.all([...services.values()].map((s) => s.stop()));
    services.clear();
    return codes;
  };

  beforeAll(async () => {
    ({ base, env } = await joblineEnv(ns, {
      API_TOKENS: 'acme-token:acme,globex-token:globex',
      // One partition and one slot: the order jobs start in is the order they were submitted in.
      KAFKA_EVENT_PARTITIONS: '1',
      RUNNER_CONCURRENCY: '1',
    }));
    await startAll();
  });

  afterAll(async () => {
    await stopAll();
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('holds a paused job type’s jobs, due and scheduled, across a restart of every service, and runs them once resumed', async () => {
    const paused = await call('PUT', '/v1/pauses/types/sleep', { reason: 'e2e: sleep is paused' });
    expect(paused).toMatchObject({ status: 200, body: { tenant: null, types: [{ type: 'sleep' }] } });

    const sleeps: string[] = [];
    for (let i = 0; i < 3; i++) sleeps.push(await submit({ type: 'sleep', payload: { ms: 50 } }));
    const dueAt = Date.now() + 3000;
    const scheduled = await submit({ type: 'sleep', payload: { ms: 50 }, runAt: new Date(dueAt).toISOString() });
    const noops = [await submit({ type: 'noop' }), await submit({ type: 'noop' })];

    // Another type runs, through the one slot, while the paused ones wait without holding it.
    await allCompleted(noops);
    await waitFor(async () => (await queued()) === 3, { description: 'the runner holding the three due sleep jobs' });
    expect(await statuses(sleeps)).toEqual(['pending', 'pending', 'pending']);
    // The scheduled one comes due, and waits too.
    await waitFor(async () => Date.now() > dueAt && (await queued()) === 4, {
      timeoutMs: 30_000,
      description: 'the scheduled sleep job due and held',
    });
    expect(await job(scheduled)).toMatchObject({ status: 'scheduled', attempts: 0 });
    expect(await statuses(sleeps)).toEqual(['pending', 'pending', 'pending']);

    expect(await stopAll()).toEqual([0, 0, 0]);
    await startAll();

    expect(await call('GET', '/v1/pauses')).toMatchObject({
      status: 200,
      body: { tenant: null, types: [{ type: 'sleep', reason: 'e2e: sleep is paused' }] },
    });
    // The restarted runner read the pause before the jobs: it holds all four again, and started none.
    await waitFor(async () => (await queued()) === 4, { description: 'the restarted runner holding the four' });
    expect(await statuses([...sleeps, scheduled])).toEqual(['pending', 'pending', 'pending', 'scheduled']);

    const resumed = await call('DELETE', '/v1/pauses/types/sleep');
    expect(resumed).toMatchObject({ status: 200, body: { tenant: null, types: [] } });
    await allCompleted([...sleeps, scheduled]);
    const started = await Promise.all(sleeps.map(async (id) => Date.parse((await job(id)).startedAt!)));
    expect(started).toEqual([...started].sort((a, b) => a - b));
    expect(await queued()).toBe(0);
  });

  it('holds every type of a tenant paused as a whole, lets the running attempt finish, and runs other tenants', async () => {
    const long = await submit({ type: 'sleep', payload: { ms: 1500 } });
    await waitFor(async () => (await job(long)).status === 'processing', { description: 'the long job running' });

    expect(await call('PUT', '/v1/pauses/tenant', { reason: 'incident 42' })).toMatchObject({
      status: 200,
      body: { tenant: { reason: 'incident 42' }, types: [] },
    });
    const held = [await submit({ type: 'noop' }), await submit({ type: 'sleep', payload: { ms: 10 } })];
    const other = await submit({ type: 'noop' }, 'globex-token');

    await allCompleted([other], 'globex-token');
    await allCompleted([long]);
    await waitFor(async () => (await queued()) === 2, { description: 'the runner holding the tenant’s two jobs' });
    expect(await statuses(held)).toEqual(['pending', 'pending']);
    expect((await call('GET', '/v1/pauses', undefined, 'globex-token')).body).toEqual({ tenant: null, types: [] });

    expect(await call('DELETE', '/v1/pauses/tenant')).toMatchObject({ status: 200, body: { tenant: null } });
    await allCompleted(held);
  });
});
