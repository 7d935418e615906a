import { connectRedis, type JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess } from './service-process';
import { setKafkaRunning } from './stack-control';

describe('jobline end to end: producer, persister and runner as processes', () => {
  const ns = testNamespace();
  const services: ServiceProcess[] = [];
  let base: string;

  const submit = (body: unknown) =>
    fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: 'Bearer e2e-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const read = async (id: string): Promise<JobView> =>
    readJson(await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: 'Bearer e2e-token' } }));

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...ns.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_TOKENS: 'e2e-token:e2e,other-token:other',
      KAFKA_PUBLISH_TIMEOUT_MS: '3000',
    };
    services.push(await ServiceProcess.start('producer', env));
    services.push(...(await Promise.all([ServiceProcess.start('consumer', env), ServiceProcess.start('runner', env)])));
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    const infra = testInfra();
    const mongo = new MongoClient(infra.mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('takes a sleep job from pending through processing to completed', async () => {
    const res = await submit({ type: 'sleep', payload: { ms: 1500 } });
    expect(res.status).toBe(202);
    const created: JobView = await readJson(res);
    expect(created.status).toBe('pending');
    expect(res.headers.get('location')).toBe(`/v1/jobs/${created.id}`);

    const seen: string[] = [];
    const final = await waitFor(
      async () => {
        const view = await read(created.id);
        if (seen.at(-1) !== view.status) seen.push(view.status);
        return view.status === 'completed' ? view : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 25, description: 'the job to complete' },
    );

    expect(seen).toEqual(['pending', 'processing', 'completed']);
    expect(final).toMatchObject({ attempts: 1, result: { sleptMs: expect.any(Number) }, error: null });
    expect(Date.parse(final.startedAt!)).toBeGreaterThanOrEqual(Date.parse(final.createdAt));
    expect(Date.parse(final.finishedAt!) - Date.parse(final.startedAt!)).toBeGreaterThanOrEqual(1500);
  });

  it('finds a job right after its 202, and hides it from other tenants', async () => {
    const created: JobView = await readJson(await submit({ type: 'noop' }));

    const view = await read(created.id);
    const other = await fetch(`${base}/v1/jobs/${created.id}`, { headers: { authorization: 'Bearer other-token' } });

    expect(view.id).toBe(created.id);
    expect(other.status).toBe(404);
  });

  it('answers 503 with Retry-After and caches nothing while Kafka is down, and 202 again once it is back', async () => {
    const redis = connectRedis(testInfra().redisUrl);
    await redis.connect();
    const cachedJobs = async () => (await redis.keys(`${ns.redisPrefix}job:*`)).length;
    const before = await cachedJobs();

    await setKafkaRunning(false);
    try {
      const res = await submit({ type: 'noop' });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await readJson(res)).toMatchObject({ code: 'KAFKA_UNAVAILABLE', status: 503 });
      expect(await cachedJobs()).toBe(before);
    } finally {
      await setKafkaRunning(true);
    }

    const accepted = await waitFor(
      async () => {
        const res = await submit({ type: 'noop' });
        return res.status === 202 ? ((await readJson(res)) as JobView) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'the producer to accept jobs again' },
    );
    await waitFor(async () => (await read(accepted.id)).status === 'completed', {
      timeoutMs: 60_000,
      description: 'the pipeline to complete a job after the Kafka restart',
    });
    await redis.quit();
  });
});
