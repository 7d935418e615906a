import { randomUUID } from 'node:crypto';
import {
  connectMongo,
  joblineCollections,
  type MongoConnection,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  allTopics,
  ensureTopics,
  newEvent,
  topicNames,
  encodeEvent,
  type KafkaEventPublisher,
} from '@jobline/libs';
import { aJobRequested, tapEvents, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { noopHandler } from './handlers/noop-handler';
import { sleepHandler } from './handlers/sleep-handler';
import { createProjectionLookup, createTopicSender } from './adapters';
import { createRunnerConsumer, type RunnerConsumer, type RunnerConsumerOptions } from './runner-consumer';
import type { PauseState } from './pause-state';
import type { JobHandler } from './handlers/job-handler';

const logger = createLogger({ service: 'test', level: 'error' });
/** The engine is under test here, not the handlers: the two that need nothing from outside. */
const HANDLERS: Record<string, JobHandler> = { sleep: sleepHandler, noop: noopHandler };

const requested = (type: string, payload: unknown) => aJobRequested({ type, payload });

describe('runner consumer against Kafka', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let runner: RunnerConsumer;
  let tap: Awaited<ReturnType<typeof tapEvents>>;
  let mongo: MongoConnection;
  let sender: ReturnType<typeof createTopicSender>;

  /** A runner of the test's group; the projection it consults is an empty database (no persister runs here). */
  async function startRunner(
    runnerId: string,
    handlers: Record<string, JobHandler> = HANDLERS,
    typeConcurrency: Record<string, number> = {},
    lookups: string[] = [],
    concurrency = 4,
    more: Partial<RunnerConsumerOptions> = {},
  ) {
    const lookup = createProjectionLookup(joblineCollections(mongo.db));
    const started = createRunnerConsumer({
      kafka,
      groupId: ns.runnerGroup,
      topics,
      concurrency,
      typeConcurrency,
      execute: { publisher, handlers, runnerId, logger, now: () => new Date(), random: () => 0.5 },
      lookup: (ids) => {
        lookups.push(...ids);
        return lookup(ids);
      },
      send: sender.send,
      logger,
      ...more,
    });
    await started.start();
    return started;
  }

  /** Runs a job to completion: past it, the runner has joined its group and caught up with the log. */
  async function runOne() {
    const job = requested('noop', {});
    await publisher.publish([job]);
    await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
  }

  beforeAll(async () => {
    kafka = createKafka({ brokers: testInfra().brokers, clientId: 'test-runner', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 5000 });
    await publisher.connect();
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    sender = createTopicSender(kafka);
    await sender.connect();
    runner = await startRunner('runner-test');
    tap = await tapEvents(kafka, topics.events);
  });

  afterAll(async () => {
    await runner.stop(1000);
    await tap.stop();
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    await mongo.db.dropDatabase();
    await Promise.all([publisher.disconnect(), admin.disconnect(), sender.disconnect(), mongo.client.close()]);
  });

  it('runs requested jobs and records start and completion with absolute attempt numbers', async () => {
    const sleep = requested('sleep', { ms: 30 });
    const noop = requested('noop', {});

    await publisher.publish([sleep, noop]);

    for (const job of [sleep, noop]) {
      const events = await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['JobRequested', 'JobStarted', 'JobCompleted']));
      expect(events.find((e) => e.type === 'JobStarted')).toMatchObject({
        source: 'runner',
        data: { attempt: 1, runnerId: 'runner-test' },
      });
    }
    const completed = tap.events.find((e) => e.jobId === sleep.jobId && e.type === 'JobCompleted');
    expect(completed?.data).toMatchObject({ attempt: 1, result: { sleptMs: expect.any(Number) } });
  });

  it('fails a job whose payload its handler rejects, without retry', async () => {
    const bad = requested('sleep', { ms: 'soon' });
    const unknown = requested('teleport', {});

    await publisher.publish([bad, unknown]);

    const badEvents = await tap.forJob(bad.jobId, (e) => e.some((x) => x.type === 'JobAttemptFailed'));
    expect(badEvents.find((e) => e.type === 'JobAttemptFailed')?.data).toMatchObject({
      attempt: 1,
      error: { code: 'VALIDATION_FAILED', retryable: false },
      nextRunAt: null,
    });
    const unknownEvents = await tap.forJob(unknown.jobId, (e) => e.some((x) => x.type === 'JobAttemptFailed'));
    expect(unknownEvents.find((e) => e.type === 'JobAttemptFailed')?.data).toMatchObject({
      error: { code: 'UNKNOWN_JOB_TYPE' },
    });
  });

  it('skips an undecodable event and runs the job behind it in the same partition', async () => {
    const job = requested('noop', {});
    await sender.send(topics.events, [{ key: job.jobId, value: Buffer.from('{"type":"JobRequested", broken') }]);

    await publisher.publish([job]);

    const events = await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(events.map((e) => e.type)).toEqual(['JobRequested', 'JobStarted', 'JobCompleted']);
  });

  it('runs new jobs while a long one runs: a batch does not hold up the fetching of other work', async () => {
    const long = requested('sleep', { ms: 4000 });
    await publisher.publish([long]);
    await tap.forJob(long.jobId, (e) => e.some((x) => x.type === 'JobStarted'));

    const quick = requested('noop', {});
    await publisher.publish([quick]);

    await tap.forJob(quick.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(tap.events.some((e) => e.jobId === long.jobId && e.type === 'JobCompleted')).toBe(false);
    await tap.forJob(long.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
  });

  it('does not commit a job it abandons: a new runner of the group runs it again', async () => {
    const long = requested('sleep', { ms: 60_000 });
    const quick = requested('noop', {});
    await publisher.publish([long, quick]);
    await tap.forJob(long.jobId, (e) => e.some((x) => x.type === 'JobStarted'));

    await runner.stop(0);
    runner = await startRunner('runner-2', { ...HANDLERS, sleep: async () => ({ result: 'second run' }) });

    const events = await tap.forJob(long.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(events.filter((e) => e.type === 'JobStarted').map((e) => e.data)).toEqual([
      { attempt: 1, runnerId: 'runner-test' },
      { attempt: 1, runnerId: 'runner-2' },
    ]);
    expect(events.find((e) => e.type === 'JobCompleted')?.data).toMatchObject({ result: 'second run' });
    await tap.forJob(quick.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
  });

  it('runs no more jobs of a type at once than its own limit, while other types use the rest', async () => {
    let running = 0;
    let peak = 0;
    const counting: JobHandler = async () => {
      running += 1;
      peak = Math.max(peak, running);
      await sleep(150);
      running -= 1;
      return { result: null };
    };
    await runner.stop(1000);
    runner = await startRunner('runner-typed', { ...HANDLERS, sleep: counting }, { sleep: 2 });
    const sleeps = Array.from({ length: 8 }, () => requested('sleep', { ms: 0 }));
    const noops = Array.from({ length: 4 }, () => requested('noop', {}));

    await publisher.publish([...sleeps, ...noops]);

    for (const job of [...sleeps, ...noops]) {
      await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    }
    expect(peak).toBe(2);
  });

  it('gives handlers a stable idempotency key and throttles their progress reports', async () => {
    const keys: string[] = [];
    const reporting: JobHandler = async (_job, ctx) => {
      keys.push(ctx.idempotencyKey);
      for (let step = 1; step <= 50; step++) ctx.progress(step, 50, `step ${step}`);
      if (ctx.attempt === 1) throw new Error('first attempt fails');
      return { result: null };
    };
    await runner.stop(1000);
    runner = await startRunner('runner-progress', { ...HANDLERS, noop: reporting });
    const job = requested('noop', {});
    job.data.maxAttempts = 2;
    job.data.backoff = { type: 'fixed', delayMs: 0 };

    await publisher.publish([job]);

    const events = await tap.forJob(
      job.jobId,
      (e) => e.some((x) => x.type === 'JobCompleted') && e.filter((x) => x.type === 'JobProgressed').length >= 2,
    );
    expect(keys).toEqual([job.jobId, job.jobId]);
    // Fifty reports in a burst per attempt reach the log as one event each: the first.
    expect(events.filter((e) => e.type === 'JobProgressed').map((e) => e.data)).toEqual([
      { attempt: 1, current: 1, total: 50, message: 'step 1' },
      { attempt: 2, current: 1, total: 50, message: 'step 1' },
    ]);
  });

  it('decides from the log it reads: no projection reads for jobs it saw requested', async () => {
    await runner.stop(1000);
    const lookups: string[] = [];
    runner = await startRunner('runner-log', HANDLERS, {}, lookups);
    await runOne();
    lookups.length = 0;
    const jobs = Array.from({ length: 20 }, () => requested('noop', {}));

    await publisher.publish(jobs);

    for (const job of jobs) await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(lookups.filter((id) => jobs.some((j) => j.jobId === id))).toEqual([]);
  });

  it('never starts a job cancelled while it waited for a slot', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: JobHandler = async () => {
      await gate;
      return { result: null };
    };
    await runner.stop(1000);
    runner = await startRunner('runner-slots', { ...HANDLERS, sleep: gated }, { sleep: 1 });
    const holder = requested('sleep', {});
    const waiter = requested('sleep', {});
    await publisher.publish([holder]);
    await tap.forJob(holder.jobId, (e) => e.some((x) => x.type === 'JobStarted'));
    await publisher.publish([waiter]);

    await publisher.publish([
      newEvent(
        'JobCancelled',
        { jobId: waiter.jobId, tenantId: 'acme', source: 'producer', now: new Date() },
        { reason: null },
      ),
    ]);
    // A job requested behind the cancellation in the waiter's partition: once it ran, the runner has read the cancel.
    const marker = requested('noop', {});
    await sender.send(topics.events, [{ ...encodeEvent(marker), key: waiter.jobId }]);
    await tap.forJob(marker.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    // The next job of the type queues for the slot behind the waiter (slots are taken in order).
    const after = requested('sleep', {});
    await publisher.publish([after]);
    release();

    await tap.forJob(after.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(tap.events.filter((e) => e.jobId === waiter.jobId).map((e) => e.type)).toEqual([
      'JobRequested',
      'JobCancelled',
    ]);
  });

  it("never starts a job cancelled while it waited for one of the runner's slots, all busy", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated: JobHandler = async () => {
      await gate;
      return { result: null };
    };
    const lookups: string[] = [];
    await runner.stop(1000);
    runner = await startRunner('runner-saturated', { ...HANDLERS, sleep: gated }, {}, lookups, 2);
    await runOne();
    const holders = [requested('sleep', {}), requested('sleep', {})];
    await publisher.publish(holders);
    for (const holder of holders) await tap.forJob(holder.jobId, (e) => e.some((x) => x.type === 'JobStarted'));
    const waiter = requested('noop', {});
    await publisher.publish([waiter]);

    await publisher.publish([
      newEvent(
        'JobCancelled',
        { jobId: waiter.jobId, tenantId: 'acme', source: 'producer', now: new Date() },
        { reason: null },
      ),
    ]);
    // A redrive of a job the runner never saw, behind the cancellation in the waiter's partition: every job type
    // waits for a slot, but a job unknown to the log is looked up in the projection at once. Once it was, the runner
    // has read the cancellation.
    const unknown = newEvent(
      'JobRetryRequested',
      { jobId: randomUUID(), tenantId: 'acme', source: 'producer', now: new Date() },
      { attemptLimit: 2 },
    );
    await sender.send(topics.events, [{ ...encodeEvent(unknown), key: waiter.jobId }]);
    await waitFor(() => lookups.includes(unknown.jobId), { timeoutMs: 10_000, description: 'the redrive to be read' });
    release();
    const after = requested('noop', {});
    await publisher.publish([after]);

    await tap.forJob(after.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(tap.events.filter((e) => e.jobId === waiter.jobId).map((e) => e.type)).toEqual([
      'JobRequested',
      'JobCancelled',
    ]);
  });

  it('never starts the next attempt of a job cancelled while it waited for its retry', async () => {
    await runner.stop(1000);
    runner = await startRunner('runner-retry-wait');
    await runOne();
    const job = aJobRequested({
      type: 'sleep',
      payload: { ms: 1, failAttempts: 1 },
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: 1500 },
    });
    await publisher.publish([job]);
    await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobAttemptFailed'));

    await publisher.publish([
      newEvent(
        'JobCancelled',
        { jobId: job.jobId, tenantId: 'acme', source: 'producer', now: new Date() },
        { reason: null },
      ),
    ]);
    const marker = requested('noop', {});
    await sender.send(topics.events, [{ ...encodeEvent(marker), key: job.jobId }]);
    await tap.forJob(marker.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    await waitFor(() => runner.waiting === 0, { timeoutMs: 5000, description: 'the retry wait to end' });
    const later = requested('noop', {});
    await publisher.publish([later]);

    await tap.forJob(later.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(tap.events.filter((e) => e.jobId === job.jobId).map((e) => e.type)).toEqual([
      'JobRequested',
      'JobStarted',
      'JobProgressed',
      'JobAttemptFailed',
      'JobCancelled',
    ]);
  });

  it('never starts a job cancelled while it waited in memory for its time', async () => {
    const lookups: string[] = [];
    await runner.stop(1000);
    runner = await startRunner('runner-wait', HANDLERS, {}, lookups);
    await runOne();
    const due = requested('noop', {});
    due.data.runAt = new Date(Date.now() + 1500).toISOString();
    await publisher.publish([due]);
    await publisher.publish([
      newEvent(
        'JobCancelled',
        { jobId: due.jobId, tenantId: 'acme', source: 'producer', now: new Date() },
        { reason: null },
      ),
    ]);
    const marker = requested('noop', {});
    await sender.send(topics.events, [{ ...encodeEvent(marker), key: due.jobId }]);
    await tap.forJob(marker.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));

    // The wait ends in a check of the job's latest state, which the runner knows from the log, not the projection.
    await waitFor(() => runner.waiting === 0, { timeoutMs: 5000, description: 'the wait to end' });
    // Had the job started, its start would be acknowledged before anything this runner publishes later.
    const later = requested('noop', {});
    await publisher.publish([later]);
    await tap.forJob(later.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
    expect(tap.events.filter((e) => e.jobId === due.jobId).map((e) => e.type)).toEqual([
      'JobRequested',
      'JobCancelled',
    ]);
    expect(lookups).not.toContain(due.jobId);
  });

  it('aborts a running job whose cancellation it reads in the log, with no announcement on Redis', async () => {
    await runner.stop(1000);
    runner = await startRunner('runner-cancel-log');
    await runOne();
    const job = requested('sleep', { ms: 60_000 });
    await publisher.publish([job]);
    await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobStarted'));

    await publisher.publish([
      newEvent(
        'JobCancelRequested',
        { jobId: job.jobId, tenantId: 'acme', source: 'producer', now: new Date() },
        { reason: null },
      ),
    ]);

    await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCancelled'));
    expect(tap.events.filter((e) => e.jobId === job.jobId).map((e) => e.type)).not.toContain('JobCompleted');
  });

  it('runs an attempt once when it is asked for twice', async () => {
    await runner.stop(1000);
    runner = await startRunner('runner-twice');
    await runOne();
    const job = requested('noop', {});

    await publisher.publish([job]);
    await publisher.publish([job]);

    await tap.forJob(
      job.jobId,
      (e) => e.filter((x) => x.type === 'JobRequested').length === 2 && e.some((x) => x.type === 'JobCompleted'),
    );
    // Had the second request started the job again, its start would be in the log before a later job's completion.
    await runOne();
    expect(tap.events.filter((e) => e.jobId === job.jobId && e.type === 'JobStarted')).toHaveLength(1);
  });

  describe('which waiting job a freed slot goes to', () => {
    /** A handler that records the order jobs start in, and holds each until the gate opens. */
    function gatedRecorder() {
      const order: string[] = [];
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const handler: JobHandler = async (job) => {
        order.push(job.id);
        await gate;
        return { result: null };
      };
      return { order, handler, open: () => open() };
    }

    it('starts the waiting job of highest priority first, though it was requested last', async () => {
      // given: one slot, held
      const { order, handler, open } = gatedRecorder();
      await runner.stop(1000);
      runner = await startRunner('runner-priority', { ...HANDLERS, sleep: handler }, {}, [], 1);
      await runOne();
      const holder = requested('sleep', {});
      await publisher.publish([holder]);
      await tap.forJob(holder.jobId, (e) => e.some((x) => x.type === 'JobStarted'));

      // when: low-priority jobs, then a high-priority one, all waiting for the slot
      const low = Array.from({ length: 3 }, () => aJobRequested({ type: 'sleep', priority: 1 }));
      const high = aJobRequested({ type: 'sleep', priority: 9 });
      await publisher.publish(low);
      await publisher.publish([high]);
      await waitFor(() => runner.queued === 4, { timeoutMs: 10_000, description: 'all four to wait for the slot' });
      open();

      // then
      for (const job of [...low, high]) await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      expect(order[order.indexOf(holder.jobId) + 1]).toBe(high.jobId);
    });

    it("gives a freed slot to a tenant with none running, ahead of another tenant's older backlog", async () => {
      // given: two slots, both held by tenant big, with a backlog of big's jobs waiting
      const { order, handler, open } = gatedRecorder();
      await runner.stop(1000);
      runner = await startRunner('runner-fair', { ...HANDLERS, sleep: handler }, {}, [], 2);
      await runOne();
      const bigJob = () => aJobRequested({ type: 'sleep', tenantId: 'big' });
      const holders = [bigJob(), bigJob()];
      await publisher.publish(holders);
      for (const holder of holders) await tap.forJob(holder.jobId, (e) => e.some((x) => x.type === 'JobStarted'));
      const backlog = Array.from({ length: 50 }, bigJob);
      await publisher.publish(backlog);

      // when: tenant small asks once big's backlog waits
      const small = aJobRequested({ type: 'sleep', tenantId: 'small' });
      await waitFor(() => runner.queued === 50, { timeoutMs: 10_000, description: 'the backlog to wait' });
      await publisher.publish([small]);
      await waitFor(() => runner.queued === 51, { timeoutMs: 10_000, description: 'the small job to wait' });
      open();

      // then: the first slot freed went to small
      for (const job of [...backlog, small])
        await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      expect(order.indexOf(small.jobId)).toBe(2);
    });

    it("caps a tenant at its limit, leaving the runner's other slots to other tenants", async () => {
      // given: four slots, tenant capped at one
      const { order, handler, open } = gatedRecorder();
      await runner.stop(1000);
      runner = await startRunner('runner-capped', { ...HANDLERS, sleep: handler }, {}, [], 4, {
        tenantConcurrencyOverrides: { capped: 1 },
      });
      await runOne();

      // when
      const capped = Array.from({ length: 3 }, () => aJobRequested({ type: 'sleep', tenantId: 'capped' }));
      await publisher.publish(capped);
      await waitFor(() => runner.queued === 2, { timeoutMs: 10_000, description: 'two capped jobs to wait' });
      const other = aJobRequested({ type: 'sleep', tenantId: 'other' });
      await publisher.publish([other]);

      // then: other starts while capped's two wait, with slots free
      await tap.forJob(other.jobId, (e) => e.some((x) => x.type === 'JobStarted'));
      expect(runner.inFlight).toBe(2);
      expect(runner.queued).toBe(2);
      open();
      for (const job of capped) await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      expect(order).toHaveLength(4);
    });

    it('holds paused work without committing past it, runs what is not paused, and starts it once resumed', async () => {
      // given: tenant quiet's sleep jobs paused
      let paused = true;
      const listeners = new Set<() => void>();
      const pauses: PauseState = {
        isPaused: (tenantId, type) => paused && tenantId === 'quiet' && type === 'sleep',
        onChange: (listener) => {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      };
      await runner.stop(1000);
      runner = await startRunner('runner-paused', HANDLERS, {}, [], 4, { paused: pauses });
      await runOne();

      // when: a paused job, and behind it in the same partition jobs that are not paused
      const held = aJobRequested({ type: 'sleep', tenantId: 'quiet', payload: { ms: 1 } });
      await publisher.publish([held]);
      const behind = [
        aJobRequested({ type: 'noop', tenantId: 'quiet' }),
        aJobRequested({ type: 'sleep', payload: { ms: 1 } }),
      ];
      await sender.send(
        topics.events,
        behind.map((job) => ({ ...encodeEvent(job), key: held.jobId })),
      );

      // then: the others run; the paused one waits, and the group's committed offset stays at it
      for (const job of behind) await tap.forJob(job.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      expect(runner.queued).toBe(1);
      const heldAt = tap.positionOf(held.eventId)!;
      const committed = async () => {
        const [topic] = await admin.fetchOffsets({ groupId: ns.runnerGroup, topics: [topics.events] });
        return Number(topic!.partitions.find((p) => p.partition === heldAt.partition)!.offset);
      };
      expect(await committed()).toBeLessThanOrEqual(heldAt.offset);
      expect(tap.events.filter((e) => e.jobId === held.jobId).map((e) => e.type)).toEqual(['JobRequested']);

      // when: resumed
      paused = false;
      for (const listener of listeners) listener();

      // then: it runs, and the commit moves past it and the jobs behind it
      await tap.forJob(held.jobId, (e) => e.some((x) => x.type === 'JobCompleted'));
      await waitFor(async () => (await committed()) > heldAt.offset + behind.length, {
        timeoutMs: 10_000,
        description: 'the commit to move past the resumed job',
      });
    });
  });
});
