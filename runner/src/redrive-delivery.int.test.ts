import {
  allTopics,
  connectMongo,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureTopics,
  foldEvents,
  joblineCollections,
  newEvent,
  topicNames,
  type JobEvent,
  type KafkaEventPublisher,
  type MongoConnection,
} from '@jobline/libs';
import { aJobRequested, tapEvents, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import type { Admin, Kafka } from 'kafkajs';
import { createProjectionLookup, createTopicSender } from './adapters';
import { noopHandler } from './handlers/noop-handler';
import { sleepHandler } from './handlers/sleep-handler';
import { createRunnerConsumer, type RunnerConsumer } from './runner-consumer';

const logger = createLogger({ service: 'test', level: 'error' });
const RUNNER_ID = 'runner-under-test';

/**
 * A redrive (`JobRetryRequested`, from `POST /v1/jobs/{id}/retry` or a `deadLetters.redrive` job) read by a runner
 * that did not read the job's history: the runner that took over its partition after another was killed, or one
 * restarted since the job failed. The runner resumes at its group's committed offset, so the job's earlier events lie
 * before what it reads, and the projection is all it knows of the job. No persister runs here: the projection stays as
 * the test wrote it, which is how a runner finds it in the moment after the redrive reached the log and before the
 * persister folded it.
 */
describe('a runner reading a redrive of a job whose history it has not read', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let sender: ReturnType<typeof createTopicSender>;
  let mongo: MongoConnection;
  let tap: Awaited<ReturnType<typeof tapEvents>>;
  let runner: RunnerConsumer | null = null;
  let groups = 0;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testInfra().brokers, clientId: 'test-redrive-delivery', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 1, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 5000 });
    await publisher.connect();
    sender = createTopicSender(kafka);
    await sender.connect();
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    tap = await tapEvents(kafka, topics.events);
  });

  afterEach(async () => {
    await runner?.stop(1000);
    runner = null;
  });

  afterAll(async () => {
    await tap.stop();
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    await mongo.db.dropDatabase();
    await Promise.all([publisher.disconnect(), sender.disconnect(), admin.disconnect(), mongo.client.close()]);
  });

  /** Publishes events and gives the offset each landed at (one partition). */
  async function publish(...events: JobEvent[]): Promise<number[]> {
    await publisher.publish(events);
    const offsets = await waitFor(
      () => {
        const found = events.map((e) => tap.positionOf(e.eventId)?.offset);
        return found.every((o) => o !== undefined) ? (found as number[]) : undefined;
      },
      { timeoutMs: 10_000, description: 'the events in the log' },
    );
    return offsets;
  }

  /** Stores the job as the persister would have folded these events. */
  async function project(events: JobEvent[], offset: number) {
    const job = foldEvents(events)!;
    await joblineCollections(mongo.db).jobs.insertOne({ ...job, _id: job.id, position: { partition: 0, offset } });
  }

  /** A runner of a fresh group whose committed offset is `from`: it has read nothing before. */
  async function startRunnerAt(from: number): Promise<string> {
    const groupId = `${ns.runnerGroup}-${++groups}`;
    await admin.setOffsets({ groupId, topic: topics.events, partitions: [{ partition: 0, offset: String(from) }] });
    runner = createRunnerConsumer({
      kafka,
      groupId,
      topics,
      concurrency: 2,
      execute: {
        publisher,
        handlers: { sleep: sleepHandler, noop: noopHandler },
        runnerId: RUNNER_ID,
        logger,
        now: () => new Date(),
        random: () => 0.5,
      },
      lookup: createProjectionLookup(joblineCollections(mongo.db)),
      send: sender.send,
      logger,
    });
    await runner.start();
    return groupId;
  }

  /** Waits until the group has committed past `offset`: the runner is done with the work that message asked for. */
  async function untilCommittedPast(groupId: string, offset: number) {
    await waitFor(
      async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.events] });
        return Number(committed!.partitions[0]!.offset) > offset;
      },
      { timeoutMs: 30_000, description: `the runner to commit past offset ${offset}` },
    );
  }

  /** Events of a job, as runner `runnerId` writes them. */
  function eventsOf(jobId: string, tenantId: string) {
    let second = 0;
    const ctx = () => ({
      jobId,
      tenantId,
      source: 'runner' as const,
      now: new Date(Date.now() - 60_000 + ++second * 100),
    });
    const error = (retryable: boolean) => ({ code: 'HANDLER_FAILED', message: 'boom', retryable });
    return {
      started: (attempt: number, runnerId: string) => newEvent('JobStarted', ctx(), { attempt, runnerId }),
      failed: (attempt: number, retry: boolean) =>
        newEvent('JobAttemptFailed', ctx(), {
          attempt,
          error: error(retry),
          nextRunAt: retry ? new Date(Date.now() - 60_000 + second * 100 + 50).toISOString() : null,
        }),
      deadLettered: (attempt: number) => newEvent('JobDeadLettered', ctx(), { attempt, error: error(false) }),
      redriven: (attemptLimit: number) =>
        newEvent('JobRetryRequested', { ...ctx(), source: 'producer' }, { attemptLimit }),
    };
  }

  // The check before the start asks the projection again, which the persister has not brought past the redrive yet:
  // it applies the redrive itself, or the job, still `failed` there, would never start and stay `pending` for good.
  it('starts the redriven job, although the projection has not folded the redrive yet', async () => {
    const requested = aJobRequested({ type: 'sleep', payload: { ms: 1 }, maxAttempts: 1 });
    const e = eventsOf(requested.jobId, requested.tenantId);
    const history = [requested, e.started(1, 'runner-before'), e.failed(1, false), e.deadLettered(1)];
    const offsets = await publish(...history);
    await project(history, offsets.at(-1)!);
    const groupId = await startRunnerAt(offsets.at(-1)! + 1);

    const redrive = e.redriven(2);
    const [at] = await publish(redrive);
    await untilCommittedPast(groupId, at!);

    expect(tap.events.filter((x) => x.jobId === requested.jobId && x.type === 'JobStarted').map((x) => x.data)).toEqual(
      [
        { attempt: 1, runnerId: 'runner-before' },
        { attempt: 2, runnerId: RUNNER_ID },
      ],
    );
  });

  // A copy of a `JobRetryRequested` (the same event id, published again at a later offset: a bulk redrive rerun after
  // its runner died, or a redrive asked twice) asks for the redrive's first attempt; the job runs a later one, started
  // by a retry timer on another runner, and the copy must not start it a second time.
  it('does not start again an attempt that another runner is running', async () => {
    const requested = aJobRequested({ type: 'sleep', payload: { ms: 1 }, maxAttempts: 2 });
    const e = eventsOf(requested.jobId, requested.tenantId);
    const redrive = e.redriven(4);
    const history = [
      requested,
      e.started(1, 'runner-a'),
      e.failed(1, true),
      e.started(2, 'runner-a'),
      e.failed(2, false),
      e.deadLettered(2),
      redrive,
      e.started(3, 'runner-a'),
      e.failed(3, true),
      // Attempt 4 runs on runner-a now, started by its retry timer; the redrive's work is done and committed.
      e.started(4, 'runner-a'),
    ];
    const offsets = await publish(...history);
    await project(history, offsets.at(-1)!);
    const groupId = await startRunnerAt(offsets.at(-1)! + 1);

    await publisher.publish([redrive]);
    const copyAt = await waitFor(
      () => {
        const copies = tap.events.filter((x) => x.eventId === redrive.eventId);
        return copies.length === 2 ? offsets.at(-1)! + 1 : undefined;
      },
      { timeoutMs: 10_000, description: 'the copy of the redrive in the log' },
    );
    await untilCommittedPast(groupId, copyAt);

    expect(
      tap.events.filter((x) => x.jobId === requested.jobId && x.type === 'JobStarted' && x.data.runnerId === RUNNER_ID),
    ).toEqual([]);
  });
});
