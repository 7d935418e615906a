import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { topicNames, type DeadLetter, type JobEvent, type JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { freePort, ServiceProcess } from './service-process';

/**
 * The job lifecycle through the API, with producer, persister and runner as processes on real Kafka, MongoDB and
 * Redis: retries, dead letters, timeouts, redrive, scheduling and cancellation.
 */
describe('job lifecycle end to end', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const services: ServiceProcess[] = [];
  const kafka = new Kafka({ brokers: testInfra().brokers, clientId: 'lifecycle-e2e', logLevel: logLevel.NOTHING });
  const mongo = new MongoClient(testInfra().mongoUri);
  const deadLetters: DeadLetter[] = [];
  const dlqConsumer = kafka.consumer({ groupId: `dlq-${randomUUID()}` });
  let base: string;

  const headers = { authorization: 'Bearer e2e-token', 'content-type': 'application/json' };
  const submit = async (body: unknown): Promise<JobView> => {
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect(res.status).toBe(202);
    return readJson(res);
  };
  const read = async (id: string): Promise<JobView> => readJson(await fetch(`${base}/v1/jobs/${id}`, { headers }));
  const post = (id: string, action: 'cancel' | 'retry') =>
    fetch(`${base}/v1/jobs/${id}/${action}`, { method: 'POST', headers });
  const untilStatus = (id: string, status: JobView['status'], timeoutMs = 30_000) =>
    waitFor(async () => ((await read(id)).status === status ? read(id) : undefined), {
      timeoutMs,
      intervalMs: 50,
      description: `job ${id} to be ${status}`,
    });
  /** The job's events as the persister stored them, in log order. */
  const eventsOf = async (id: string): Promise<JobEvent[]> =>
    (await mongo.db(ns.database).collection<{ event: JobEvent }>('job_events').find({ jobId: id }).toArray())
      .map((d) => d.event)
      .sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env = {
      ...ns.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_TOKENS: 'e2e-token:e2e',
    };
    services.push(await ServiceProcess.start('producer', env));
    services.push(...(await Promise.all([ServiceProcess.start('consumer', env), ServiceProcess.start('runner', env)])));
    await mongo.connect();
    await dlqConsumer.connect();
    await dlqConsumer.subscribe({ topic: topics.dlq, fromBeginning: true });
    await dlqConsumer.run({
      eachMessage: async ({ message }) => {
        deadLetters.push(JSON.parse(message.value!.toString('utf8')) as DeadLetter);
      },
    });
  });

  afterAll(async () => {
    await dlqConsumer.disconnect();
    await Promise.all(services.map((s) => s.stop()));
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('retries a failing job with backoff until it succeeds', async () => {
    const job = await submit({
      type: 'sleep',
      payload: { ms: 10, failAttempts: 2 },
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 200 },
    });

    const done = await untilStatus(job.id, 'completed');

    expect(done).toMatchObject({ attempts: 3, maxAttempts: 3, error: null, result: { sleptMs: expect.any(Number) } });
    const failures = (await eventsOf(job.id)).filter((e) => e.type === 'JobAttemptFailed');
    expect(failures.map((e) => e.data)).toEqual([
      expect.objectContaining({ attempt: 1, nextRunAt: expect.any(String) }),
      expect.objectContaining({ attempt: 2, nextRunAt: expect.any(String) }),
    ]);
    const starts = (await eventsOf(job.id)).filter((e) => e.type === 'JobStarted');
    for (const [i, failure] of failures.entries()) {
      if (failure.type !== 'JobAttemptFailed') continue;
      // the next attempt never starts before the backoff it was given
      expect(Date.parse(starts[i + 1]!.occurredAt)).toBeGreaterThanOrEqual(Date.parse(failure.data.nextRunAt!));
    }
  });

  it('dead-letters a job that runs out of attempts, and a redrive completes it', async () => {
    const job = await submit({
      type: 'sleep',
      payload: { ms: 10, failAttempts: 2 },
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 100 },
      metadata: { order: '42' },
    });

    const failed = await untilStatus(job.id, 'failed');

    expect(failed).toMatchObject({ attempts: 2, error: { code: 'HANDLER_FAILED', retryable: true } });
    const letter = await waitFor(() => deadLetters.find((l) => l.jobId === job.id), { description: 'the dead letter' });
    expect(letter).toMatchObject({
      tenantId: 'e2e',
      attempts: 2,
      error: { code: 'HANDLER_FAILED' },
      request: { type: 'sleep', payload: { ms: 10, failAttempts: 2 }, maxAttempts: 2, metadata: { order: '42' } },
    });

    const redrive = await post(job.id, 'retry');
    expect(redrive.status).toBe(202);
    // attempt numbers go on counting: the redriven job's first attempt is the 3rd, which the handler lets succeed
    expect(await untilStatus(job.id, 'completed')).toMatchObject({ attempts: 3, error: null });
  });

  it('fails a job at once on a non-retryable error, and refuses to retry what has not failed', async () => {
    const job = await submit({ type: 'sleep', payload: { ms: 10, fail: 'fatal' }, maxAttempts: 5 });

    expect(await untilStatus(job.id, 'failed')).toMatchObject({ attempts: 1, error: { retryable: false } });

    const ok = await submit({ type: 'noop' });
    await untilStatus(ok.id, 'completed');
    const refused = await post(ok.id, 'retry');
    expect(refused.status).toBe(409);
    expect(await readJson(refused)).toMatchObject({ code: 'JOB_NOT_RETRYABLE' });
  });

  it('counts a timeout as a failed attempt', async () => {
    const job = await submit({
      type: 'sleep',
      payload: { ms: 5000 },
      timeoutMs: 100,
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 50 },
    });

    const failed = await untilStatus(job.id, 'failed');

    expect(failed).toMatchObject({ attempts: 2, error: { code: 'JOB_TIMED_OUT' } });
  });

  it('never starts a scheduled job before its runAt, and starts it soon after, through a delay topic', async () => {
    const runAt = new Date(Date.now() + 7000).toISOString();
    const job = await submit({ type: 'noop', runAt });
    expect(job).toMatchObject({ status: 'scheduled', runAt });

    const done = await untilStatus(job.id, 'completed', 40_000);

    const lateness = Date.parse(done.startedAt!) - Date.parse(runAt);
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(3000);
  });

  it('cancels a scheduled job, which then never runs, and a running one, which is aborted', async () => {
    const scheduled = await submit({ type: 'noop', delayMs: 2000 });
    const cancelled = await post(scheduled.id, 'cancel');
    expect(cancelled.status).toBe(202);
    expect(await readJson(cancelled)).toMatchObject({ status: 'cancelled' });

    const running = await submit({ type: 'sleep', payload: { ms: 30_000 } });
    await untilStatus(running.id, 'processing');
    expect((await post(running.id, 'cancel')).status).toBe(202);
    const aborted = await untilStatus(running.id, 'cancelled', 10_000);
    expect(Date.parse(aborted.finishedAt!) - Date.parse(aborted.startedAt!)).toBeLessThan(10_000);

    const again = await post(running.id, 'cancel');
    expect(again.status).toBe(409);
    expect(await readJson(again)).toMatchObject({ code: 'JOB_NOT_CANCELLABLE' });

    // the scheduled one's time has come and gone: it did not start
    const witness = await submit({ type: 'noop', delayMs: 2500 });
    await untilStatus(witness.id, 'completed', 20_000);
    expect(await read(scheduled.id)).toMatchObject({ status: 'cancelled', attempts: 0, startedAt: null });
    expect((await eventsOf(scheduled.id)).map((e) => e.type)).not.toContain('JobStarted');
  });

  it('rejects bad scheduling and retry settings with problem+json naming the fields', async () => {
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'noop', maxAttempts: 0, runAt: 'tomorrow', timeoutMs: -1 }),
    });

    expect(res.status).toBe(400);
    const problem = await readJson(res);
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['maxAttempts', 'runAt', 'timeoutMs']);
  });
});
