import type { JobView } from '@jobline/libs';
import { metricValue, readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess } from './service-process';

describe('operations endpoints of the three services', () => {
  const ns = testNamespace();
  let producer: ServiceProcess;
  let consumer: ServiceProcess;
  let runner: ServiceProcess;
  let base: string;

  const ops = (service: ServiceProcess, path: string) => fetch(`http://127.0.0.1:${service.metricsPort}${path}`);
  const scrape = async (service: ServiceProcess) => {
    const res = await ops(service, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  const submit = async (body: unknown): Promise<JobView> => {
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { authorization: 'Bearer e2e-token', 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    return readJson(res);
  };
  const settled = (id: string) =>
    waitFor(
      async () => {
        const res = await fetch(`${base}/v1/jobs/${id}`, { headers: { authorization: 'Bearer e2e-token' } });
        const view = (await readJson(res)) as JobView;
        return ['completed', 'failed'].includes(view.status) ? view : undefined;
      },
      { timeoutMs: 30_000, description: `job ${id} to finish` },
    );

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = { ...ns.env, PORT: String(port), HOST: '127.0.0.1', API_TOKENS: 'e2e-token:e2e' };
    producer = await ServiceProcess.start('producer', env);
    [consumer, runner] = await Promise.all([
      ServiceProcess.start('consumer', env),
      ServiceProcess.start('runner', env),
    ]);
  });

  afterAll(async () => {
    await Promise.all([producer, consumer, runner].filter(Boolean).map((s) => s.stop()));
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('answers /health and /ready on each service', async () => {
    for (const service of [producer, consumer, runner]) {
      const health = await ops(service, '/health');
      const ready = await ops(service, '/ready');
      expect([service.name, health.status, ready.status]).toEqual([service.name, 200, 200]);
      expect(await readJson(ready)).toMatchObject({
        status: 'ready',
        checks: { kafka: { status: 'up' }, mongodb: { status: 'up' }, redis: { status: 'up' } },
      });
    }
  });

  it('counts jobs, requests, attempts, persisted events and lag', async () => {
    const noops = await Promise.all([1, 2, 3].map(() => submit({ type: 'noop' })));
    const doomed = await submit({ type: 'sleep', payload: { ms: 5000 }, timeoutMs: 50, maxAttempts: 1 });
    const finals = await Promise.all([...noops, doomed].map((job) => settled(job.id)));
    expect(finals.map((job) => job.status)).toEqual(['completed', 'completed', 'completed', 'failed']);

    const fromProducer = await scrape(producer);
    expect(metricValue(fromProducer, 'jobline_jobs_created_total', { type: 'noop' })).toBe(3);
    expect(metricValue(fromProducer, 'jobline_jobs_created_total', { type: 'sleep' })).toBe(1);
    expect(
      metricValue(fromProducer, 'jobline_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/v1/jobs',
        status: '202',
      }),
    ).toBe(4);
    expect(
      metricValue(fromProducer, 'jobline_http_request_duration_seconds_count', { route: '/v1/jobs/:id' }),
    ).toBeGreaterThanOrEqual(4);
    expect(fromProducer).not.toContain(noops[0]!.id);
    expect(metricValue(fromProducer, 'process_cpu_seconds_total', { service: 'producer' })).toBeGreaterThan(0);

    const fromRunner = await scrape(runner);
    expect(metricValue(fromRunner, 'jobline_runner_jobs_finished_total', { type: 'noop', status: 'completed' })).toBe(
      3,
    );
    expect(metricValue(fromRunner, 'jobline_runner_jobs_finished_total', { type: 'sleep', status: 'failed' })).toBe(1);
    expect(metricValue(fromRunner, 'jobline_runner_handler_duration_seconds_count', { type: 'noop' })).toBe(3);
    expect(
      metricValue(fromRunner, 'jobline_runner_handler_duration_seconds_sum', { type: 'sleep', outcome: 'failed' }),
    ).toBeGreaterThanOrEqual(0.04);
    expect(metricValue(fromRunner, 'jobline_runner_jobs_running')).toBe(0);
    expect(metricValue(fromRunner, 'jobline_runner_jobs_waiting')).toBe(0);
    expect(metricValue(fromRunner, 'jobline_runner_concurrency_limit')).toBe(16);

    // Three events per noop job and four for the failed one: requested, started, attempt failed, dead-lettered.
    await waitFor(
      async () => (metricValue(await scrape(consumer), 'jobline_persister_events_persisted_total') ?? 0) >= 13,
      { timeoutMs: 10_000, description: 'the events to be persisted' },
    );
    const fromConsumer = await waitFor(
      async () => {
        const text = await scrape(consumer);
        return metricValue(text, 'jobline_persister_lag_messages') === 0 ? text : undefined;
      },
      { timeoutMs: 10_000, description: 'the persister to catch up' },
    );
    expect(fromConsumer).toMatch(/^jobline_persister_lag_messages\{[^}]*partition="\d+"/m);
    expect(metricValue(fromConsumer, 'jobline_persister_batch_size_count')).toBeGreaterThanOrEqual(1);
    expect(metricValue(fromConsumer, 'jobline_persister_batch_size_sum')).toBeGreaterThanOrEqual(13);
    expect(metricValue(fromConsumer, 'jobline_persister_poison_messages_total')).toBe(0);
    expect(metricValue(fromConsumer, 'nodejs_heap_size_used_bytes', { service: 'consumer' })).toBeGreaterThan(0);
  });
});
