import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { TERMINAL_STATUSES, connectRedis, type Env, type JobDocument, type JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { freePort, ServiceProcess, type ServiceName } from './service-process';
import { setKafkaPaused, setKafkaRunning } from './stack-control';

/**
 * Idempotency keys under faults, with the three services as processes on real Kafka, MongoDB and Redis: a key stands
 * for its job from the first request on, so that a retry after a producer crash, or after a `503` whose event Kafka
 * took late, ends with exactly one job.
 */
describe('idempotency keys under faults', () => {
  const ns = testNamespace();
  const mongo = new MongoClient(testInfra().mongoUri);
  const redis = connectRedis(testInfra().redisUrl);
  const services = new Map<ServiceName, ServiceProcess>();
  let env: Env;
  let base: string;

  const headers = { authorization: 'Bearer faults-token', 'content-type': 'application/json' };
  const jobs = () => mongo.db(ns.database).collection<JobDocument>('jobs');
  const post = (body: unknown, key: string) =>
    fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': key },
      body: JSON.stringify(body),
    });
  const jobsWithKey = (key: string) => jobs().find({ idempotencyKey: key }).toArray();
  const untilFinished = (id: string) =>
    waitFor(async () => (await jobs().countDocuments({ _id: id, status: { $in: [...TERMINAL_STATUSES] } })) === 1, {
      timeoutMs: 60_000,
      intervalMs: 100,
      description: `job ${id} to finish`,
    });
  const startProducer = async (overrides: Env = {}) =>
    services.set('producer', await ServiceProcess.start('producer', { ...env, ...overrides }));

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = { ...ns.env, PORT: String(port), HOST: '127.0.0.1', API_TOKENS: 'faults-token:faults' };
    await startProducer();
    const [consumer, runner] = await Promise.all([
      ServiceProcess.start('consumer', env),
      ServiceProcess.start('runner', env),
    ]);
    services.set('consumer', consumer);
    services.set('runner', runner);
    await mongo.connect();
  });

  afterAll(async () => {
    await setKafkaPaused(false).catch(() => undefined);
    await Promise.all([...services.values()].map((s) => s.stop()));
    await mongo.db(ns.database).dropDatabase();
    await Promise.all([mongo.close(), redis.quit()]);
  });

  it('creates the job on a retry after the producer died between claiming the key and publishing', async () => {
    const key = `crash-${randomUUID()}`;
    const body = { type: 'noop', metadata: { case: 'producer-killed' } };
    // With Kafka away, the request claims its key and then waits on the publish, for as long as the producer lives.
    await services.get('producer')!.stop();
    await startProducer({ KAFKA_PUBLISH_TIMEOUT_MS: '120000' });
    await setKafkaRunning(false);
    try {
      const inFlight = post(body, key).catch(() => null);
      await waitFor(async () => (await redis.keys(`${ns.redisPrefix}idempotency:faults:*`)).length === 1, {
        timeoutMs: 10_000,
        description: 'the key to be claimed',
      });
      expect(await services.get('producer')!.stop('SIGKILL')).toBeNull();
      expect(await inFlight).toBeNull();
    } finally {
      await setKafkaRunning(true);
    }
    await startProducer();

    const retry = await post(body, key);
    const again = await post(body, key);

    expect([retry.status, again.status]).toEqual([202, 202]);
    const view = (await readJson(retry)) as JobView;
    expect(((await readJson(again)) as JobView).id).toBe(view.id);
    await untilFinished(view.id);
    expect((await jobsWithKey(key)).map((job) => [job._id, job.status])).toEqual([[view.id, 'completed']]);
  });

  it('answers a retry after a 503 whose event Kafka took late with that job, not a second one', async () => {
    const key = `late-${randomUUID()}`;
    const body = { type: 'noop', metadata: { case: 'late-acknowledgement' } };
    await services.get('producer')!.stop();
    await startProducer({ KAFKA_PUBLISH_TIMEOUT_MS: '1500' });
    await setKafkaPaused(true);
    let refused: Response;
    try {
      refused = await post(body, key);
    } finally {
      await setKafkaPaused(false);
    }
    expect(refused.status).toBe(503);
    // The frozen broker held the produce request and appends it once thawed: the job exists after all.
    const [late] = await waitFor(async () => ((await jobsWithKey(key)).length > 0 ? jobsWithKey(key) : false), {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'the late job to be stored',
    });

    const retry = await post(body, key);

    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(((await readJson(retry)) as JobView).id).toBe(late!._id);
    await untilFinished(late!._id);
    expect((await jobsWithKey(key)).map((job) => [job._id, job.status])).toEqual([[late!._id, 'completed']]);
  });
});
