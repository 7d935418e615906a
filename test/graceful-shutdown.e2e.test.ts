import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { topicNames, type Env, type JobEvent, type JobEventDocument, type JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { auditLog } from './log-audit';
import { joblineEnv, ServiceProcess } from './service-process';

/**
 * SIGTERM, as an orchestrator sends it on a deploy: the runner stops taking work, lets running jobs finish within its
 * grace period, abandons the rest (they run again elsewhere) and exits 0; the persister finishes its batch, commits
 * and exits 0. Nothing accepted is lost either way.
 */
describe('graceful shutdown', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const kafka = new Kafka({ brokers: testInfra().brokers, clientId: 'shutdown-e2e', logLevel: logLevel.NOTHING });
  const mongo = new MongoClient(testInfra().mongoUri);
  const accepted = new Set<string>();
  let producer: ServiceProcess;
  let persister: ServiceProcess;
  let env: Env;
  let base: string;

  const headers = { authorization: 'Bearer shutdown-token', 'content-type': 'application/json' };
  const submit = async (body: unknown): Promise<string> => {
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    const { id } = (await readJson(res)) as JobView;
    accepted.add(id);
    return id;
  };
  const statusOf = async (id: string) =>
    ((await readJson(await fetch(`${base}/v1/jobs/${id}`, { headers }))) as JobView).status;
  const untilStatus = (id: string, status: JobView['status']) =>
    waitFor(async () => (await statusOf(id)) === status, {
      timeoutMs: 60_000,
      description: `job ${id} to be ${status}`,
    });
  const eventsOf = async (id: string): Promise<JobEvent[]> =>
    (
      await mongo
        .db(ns.database)
        .collection<JobEventDocument>('job_events')
        .find({ jobId: id })
        .sort({ 'position.offset': 1 })
        .toArray()
    ).map((d) => d.event);
  const startsOf = async (id: string) => (await eventsOf(id)).flatMap((e) => (e.type === 'JobStarted' ? [e.data] : []));

  /** Sends SIGTERM; resolves with the exit code and how long the exit took. */
  const terminate = async (service: ServiceProcess) => {
    const sent = Date.now();
    const code = await service.stop('SIGTERM');
    return { code, ms: Date.now() - sent };
  };

  beforeAll(async () => {
    ({ base, env } = await joblineEnv(ns, {
      API_TOKENS: 'shutdown-token:shutdown',
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    }));
    producer = await ServiceProcess.start('producer', env);
    persister = await ServiceProcess.start('consumer', env);
    await mongo.connect();
  });

  afterAll(async () => {
    await Promise.all([producer.stop(), persister.stop()]);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('lets a running job finish within the grace period, without waiting for jobs that are not due yet', async () => {
    const runner = await ServiceProcess.start('runner', {
      ...env,
      RUNNER_SHUTDOWN_GRACE_MS: '8000',
      RUNNER_ID: 'first',
      LOG_LEVEL: 'debug',
    });
    const running = await submit({ type: 'sleep', payload: { ms: 1000 } });
    const later = await submit({ type: 'noop', delayMs: 4800 });
    await untilStatus(running, 'processing');
    await waitFor(() => runner.lines.some((line) => line.includes('waits in memory') && line.includes(later)), {
      description: 'the runner to hold the later job in memory',
    });

    const { code, ms } = await terminate(runner);

    expect(code).toBe(0);
    expect(await startsOf(running)).toEqual([{ attempt: 1, runnerId: 'first' }]);
    await untilStatus(running, 'completed');
    // The job due in 4.8 s was waiting in memory; the runner let it go at once instead of holding the shutdown.
    expect(ms).toBeLessThan(3000);
    expect(await statusOf(later)).toBe('scheduled');

    const next = await ServiceProcess.start('runner', { ...env, RUNNER_ID: 'second' });
    try {
      await untilStatus(later, 'completed');
      expect(await startsOf(later)).toEqual([{ attempt: 1, runnerId: 'second' }]);
    } finally {
      expect(await next.stop()).toBe(0);
    }
  });

  it('aborts a job that outlasts the grace period, which then runs again on another runner', async () => {
    const runner = await ServiceProcess.start('runner', {
      ...env,
      RUNNER_SHUTDOWN_GRACE_MS: '500',
      RUNNER_ID: 'first',
    });
    const long = await submit({ type: 'sleep', payload: { ms: 3000 } });
    await untilStatus(long, 'processing');

    const { code, ms } = await terminate(runner);

    expect(code).toBe(0);
    expect(ms).toBeLessThan(2500);
    expect(await statusOf(long)).toBe('processing');

    const next = await ServiceProcess.start('runner', { ...env, RUNNER_ID: 'second' });
    try {
      await untilStatus(long, 'completed');
      expect(await startsOf(long)).toEqual([
        { attempt: 1, runnerId: 'first' },
        { attempt: 1, runnerId: 'second' },
      ]);
    } finally {
      await next.stop();
    }
  });

  it('stops the persister cleanly under load; its successor resumes where it committed', async () => {
    const runner = await ServiceProcess.start('runner', env);
    try {
      const first = await Promise.all(Array.from({ length: 30 }, () => submit({ type: 'noop' })));
      await waitFor(async () => (await statusOf(first[0]!)) !== 'pending', { description: 'the persister to work' });

      const { code } = await terminate(persister);
      const during = await Promise.all(Array.from({ length: 30 }, () => submit({ type: 'noop' })));
      persister = await ServiceProcess.start('consumer', env);

      for (const id of [...first, ...during]) await untilStatus(id, 'completed');
      expect(code).toBe(0);
      expect(await auditLog(kafka, topics.events, mongo.db(ns.database), accepted)).toMatchObject({
        unfinished: [],
        statusChanged: [],
        foldMismatches: [],
        unstoredEvents: [],
        strayStoredEvents: [],
      });
    } finally {
      await runner.stop();
    }
  });
});
