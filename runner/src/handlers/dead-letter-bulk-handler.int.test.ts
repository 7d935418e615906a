import { randomUUID } from 'node:crypto';
import type { Admin, Kafka } from 'kafkajs';
import {
  allTopics,
  connectMongo,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureIndexes,
  ensureTopics,
  evolve,
  jobFromDocument,
  joblineCollections,
  newEvent,
  topicNames,
  type EventPublisher,
  type Job,
  type JobEvent,
  type JoblineCollections,
  type KafkaEventPublisher,
  type MongoConnection,
} from '@jobline/libs';
import { aJobRequested, tapEvents, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { bulkEventId } from '../dead-letters/bulk-plan';
import { bulkRunsCollection, mongoBulkRunStore, mongoDeadLetterStore } from '../dead-letters/dead-letter-store';
import { createDeadLetterBulkHandler, type DeadLetterBulkDeps } from './dead-letter-bulk-handler';
import { handlerContext, requestedJob } from './testing/handler-fixtures';
import { toErrorInfo } from '../execute-job';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (second: number) => new Date(T0 + second * 1000);

/**
 * The bulk jobs on the dead letters against MongoDB and Kafka: the handler reads the `jobs` projection and publishes
 * to a topic of the test's own. No persister runs here: the test folds what reached Kafka into the projection itself
 * (`persist`), as the persister does (each event id stored once, the job folded with `evolve`).
 */
describe('deadLetters.redrive and deadLetters.discard handlers', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let mongo: MongoConnection;
  let collections: JoblineCollections;
  let publisher: KafkaEventPublisher;
  let tap: Awaited<ReturnType<typeof tapEvents>>;
  let offset = 0;

  beforeAll(async () => {
    kafka = createKafka({ brokers: testInfra().brokers, clientId: 'test-dead-letter-bulk', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 1, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
    await publisher.connect();
    tap = await tapEvents(kafka, topics.events);
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    collections = joblineCollections(mongo.db);
    await ensureIndexes(collections);
  });

  afterAll(async () => {
    await tap.stop();
    await publisher.disconnect();
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    await admin.disconnect();
    await mongo.db.dropDatabase();
    await mongo.client.close();
  });

  /** Folds events into the projection as the persister does: an event id is stored once, the job moves by `evolve`. */
  async function persist(events: readonly JobEvent[]) {
    for (const event of events) {
      const stored = await collections.jobEvents.findOne({ _id: event.eventId });
      if (stored) continue;
      const position = { partition: 0, offset: offset++ };
      await collections.jobEvents.insertOne({
        _id: event.eventId,
        event,
        jobId: event.jobId,
        tenantId: event.tenantId,
        position,
      });
      const doc = await collections.jobs.findOne({ _id: event.jobId });
      const next = evolve(doc ? jobFromDocument(doc) : null, event);
      if (next) await collections.jobs.replaceOne({ _id: next.id }, { ...next, position }, { upsert: true });
    }
  }

  /** The events of the failure of `attempt` at `second`: started, failed for good, dead-lettered. */
  function failure(jobId: string, tenantId: string, attempt: number, second: number, code: string): JobEvent[] {
    const ctx = { jobId, tenantId, source: 'runner' as const, now: at(second) };
    const error = { code, message: `${code} on attempt ${attempt}`, retryable: false };
    return [
      newEvent('JobStarted', ctx, { attempt, runnerId: 'runner-1' }),
      newEvent('JobAttemptFailed', ctx, { attempt, error, nextRunAt: null }),
      newEvent('JobDeadLettered', ctx, { attempt, error }),
    ];
  }

  /** A job of `tenantId` that failed for good on its first attempt, `second` seconds after T0, stored. */
  async function deadLetter(tenantId: string, second: number, { type = 'sleep', code = 'HANDLER_FAILED' } = {}) {
    const requested = aJobRequested({ tenantId, now: at(second - 1), type, payload: { ms: 1 }, maxAttempts: 2 });
    await persist([requested, ...failure(requested.jobId, tenantId, 1, second, code)]);
    return requested.jobId;
  }

  /** A bulk job requested at `second`. */
  const bulkJob = (
    type: 'deadLetters.redrive' | 'deadLetters.discard',
    tenantId: string,
    payload: unknown,
    second = 100,
  ) => requestedJob(type, payload, { tenantId, now: at(second) });

  function deps(overrides: Partial<DeadLetterBulkDeps> = {}): DeadLetterBulkDeps {
    return {
      deadLetters: mongoDeadLetterStore(collections),
      bulkRuns: mongoBulkRunStore(bulkRunsCollection(mongo.db)),
      publisher,
      now: () => new Date(),
      ...overrides,
    };
  }

  /** Runs a bulk job's handler once; gives its result and the progress it reported. */
  async function run(job: Job, d: DeadLetterBulkDeps = deps(), attempt = 1) {
    const action = job.type === 'deadLetters.redrive' ? 'redrive' : 'discard';
    const progress: { current: number; total: number | null }[] = [];
    const { result } = await createDeadLetterBulkHandler(action, d)(
      job,
      handlerContext({
        attempt,
        idempotencyKey: job.id,
        progress: (current, total = null) => progress.push({ current, total }),
      }),
    );
    return { result, progress };
  }

  /** What the bulk job has put in the log so far (each event as often as it was published), once Kafka has it. */
  async function publishedBy(bulkJobId: string, count: number) {
    const mine = () =>
      tap.events.filter(
        (e) => (e.type === 'JobRetryRequested' || e.type === 'JobDiscarded') && e.data.bulkJobId === bulkJobId,
      );
    await waitFor(() => mine().length >= count, { timeoutMs: 10_000, description: `${count} events of ${bulkJobId}` });
    return mine();
  }

  /** Messages ever written to the test's event topic. */
  const logEnd = async () => Number((await admin.fetchTopicOffsets(topics.events))[0]!.high);
  const statusOf = async (jobId: string) => (await collections.jobs.findOne({ _id: jobId }))?.status;
  const storedCommands = async (jobId: string, type: JobEvent['type']) =>
    collections.jobEvents.countDocuments({ jobId, 'event.type': type });

  it('redrives the dead letters of the filter, each once, oldest first, with progress, and says what it did', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const matching = [await deadLetter(tenant, 20), await deadLetter(tenant, 10), await deadLetter(tenant, 30)];
    const others = [
      await deadLetter(tenant, 11, { code: 'JOB_TIMED_OUT' }),
      await deadLetter(tenant, 12, { type: 'http' }),
      await deadLetter(tenant, 2),
      await deadLetter(`${tenant}-other`, 13),
      // Dead-lettered after the bulk job was requested: not in its scope.
      await deadLetter(tenant, 150),
    ];
    const job = bulkJob('deadLetters.redrive', tenant, {
      type: 'sleep',
      code: 'HANDLER_FAILED',
      from: at(5).toISOString(),
    });

    const { result, progress } = await run(job, deps({ pageSize: 2 }));

    expect(result).toEqual({
      action: 'redrive',
      filter: { type: 'sleep', code: 'HANDLER_FAILED', from: at(5).toISOString(), to: at(100).toISOString() },
      matched: 3,
      redriven: 3,
      skipped: 0,
      limitReached: false,
    });
    expect(progress).toEqual([
      { current: 2, total: 3 },
      { current: 3, total: 3 },
    ]);
    const events = await publishedBy(job.id, 3);
    // Oldest dead letter first; each command under the id derived from the bulk job and the job it redrives.
    expect(events.map((e) => [e.jobId, e.eventId, e.type, e.data])).toEqual(
      [matching[1]!, matching[0]!, matching[2]!].map((id) => [
        id,
        bulkEventId(job, id),
        'JobRetryRequested',
        { attemptLimit: 3, bulkJobId: job.id },
      ]),
    );
    await persist(events);
    for (const id of matching) expect(await statusOf(id)).toBe('pending');
    for (const id of others) expect(await statusOf(id)).toBe('failed');
  });

  it('after its runner died between publishing a page and recording it, a rerun publishes that page again under the same ids, and redrives and counts each dead letter once', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets: string[] = [];
    for (let s = 1; s <= 5; s++) targets.push(await deadLetter(tenant, s));
    const job = bulkJob('deadLetters.redrive', tenant, {});
    let publishes = 0;
    // The second page reaches Kafka; then the runner dies before it records the page as done.
    const dying: EventPublisher = {
      async publish(events) {
        await publisher.publish(events);
        if (++publishes === 2) throw new Error('runner killed');
      },
    };

    await expect(run(job, deps({ publisher: dying, pageSize: 2 }))).rejects.toThrow('runner killed');
    await persist(await publishedBy(job.id, 4));
    // Meanwhile a job of the first page, redriven, failed again: a new dead letter, after the bulk job's request.
    await persist(failure(targets[0]!, tenant, 2, 120, 'HANDLER_FAILED'));
    const { result } = await run(job, deps({ pageSize: 2 }), 2);

    expect(result).toMatchObject({ matched: 5, redriven: 5, skipped: 0 });
    const events = await publishedBy(job.id, 7);
    // The second page went out twice, the very same events (ids, data, time); every other command once.
    expect(events.map((e) => e.jobId)).toEqual([...targets.slice(0, 4), ...targets.slice(2)]);
    expect(events.slice(4, 6)).toEqual(events.slice(2, 4));
    await persist(events);
    for (const id of targets) expect(await storedCommands(id, 'JobRetryRequested')).toBe(1);
    expect(await statusOf(targets[0]!)).toBe('failed');
    for (const id of targets.slice(1)) expect(await statusOf(id)).toBe('pending');
  });

  it('run again once finished, publishes nothing and answers the same', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets = [await deadLetter(tenant, 1), await deadLetter(tenant, 2)];
    const job = bulkJob('deadLetters.redrive', tenant, {});
    const first = await run(job);
    await persist(await publishedBy(job.id, 2));
    // A job it redrove fails again within its scope (a runner's clock behind the producer's): met again, passed over.
    await persist(failure(targets[0]!, tenant, 2, 50, 'HANDLER_FAILED'));

    const before = await logEnd();
    const again = await run(job, deps(), 2);

    expect(again.result).toEqual(first.result);
    expect(await logEnd()).toBe(before);
    expect(await statusOf(targets[0]!)).toBe('failed');
  });

  it('a second bulk job with the same filter redrives only the jobs that failed again since the first', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets = [await deadLetter(tenant, 1), await deadLetter(tenant, 2)];
    const first = bulkJob('deadLetters.redrive', tenant, { type: 'sleep' });
    await run(first);
    await persist(await publishedBy(first.id, 2));
    await persist(failure(targets[1]!, tenant, 2, 150, 'HANDLER_FAILED'));

    const second = bulkJob('deadLetters.redrive', tenant, { type: 'sleep' }, 200);
    const { result } = await run(second);

    expect(result).toMatchObject({ matched: 1, redriven: 1 });
    expect((await publishedBy(second.id, 1)).map((e) => [e.jobId, e.data])).toEqual([
      [targets[1], { attemptLimit: 4, bulkJobId: second.id }],
    ]);
  });

  it('discards the dead letters of the filter with the reason: they stay, discarded, and a second discard finds none', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets = [
      await deadLetter(tenant, 1, { code: 'OUTBOUND_NETWORK' }),
      await deadLetter(tenant, 2, { code: 'OUTBOUND_NETWORK' }),
    ];
    const kept = await deadLetter(tenant, 3);
    const job = bulkJob('deadLetters.discard', tenant, { code: 'OUTBOUND_NETWORK', reason: 'the partner API is gone' });

    const { result } = await run(job);

    expect(result).toMatchObject({ action: 'discard', matched: 2, discarded: 2, skipped: 0 });
    const events = await publishedBy(job.id, 2);
    expect(events.map((e) => [e.type, e.data])).toEqual(
      targets.map(() => ['JobDiscarded', { attempt: 1, reason: 'the partner API is gone', bulkJobId: job.id }]),
    );
    await persist(events);
    for (const id of targets) expect(await statusOf(id)).toBe('discarded');
    expect(await statusOf(kept)).toBe('failed');

    const again = bulkJob('deadLetters.discard', tenant, { code: 'OUTBOUND_NETWORK' }, 200);
    expect((await run(again)).result).toMatchObject({ matched: 0, discarded: 0 });
  });

  it('stops at its limit and says so; `none` stands for a dead letter without an error', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets: string[] = [];
    for (let s = 1; s <= 3; s++) targets.push(await deadLetter(tenant, s));
    await collections.jobs.updateMany({ _id: { $in: targets } }, { $set: { error: null } });
    await deadLetter(tenant, 4);

    const { result } = await run(bulkJob('deadLetters.redrive', tenant, { code: 'none', limit: 2 }));

    expect(result).toMatchObject({ matched: 2, redriven: 2, skipped: 0, limitReached: true });
    const all = await run(bulkJob('deadLetters.redrive', tenant, { code: 'none', limit: 3 }));
    expect(all.result).toMatchObject({ limitReached: false });
  });

  it('counts as skipped the dead letters redriven by someone else after it counted them', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const targets = [await deadLetter(tenant, 1), await deadLetter(tenant, 2), await deadLetter(tenant, 3)];
    const job = bulkJob('deadLetters.redrive', tenant, {});
    const store = mongoDeadLetterStore(collections);
    // A person redrives the second one while the bulk job is at its first page.
    const racing: DeadLetterBulkDeps['deadLetters'] = {
      ...store,
      async page(scope, after, size) {
        if (after !== null && after.id === targets[0]) {
          const [redrive] = [
            newEvent(
              'JobRetryRequested',
              { jobId: targets[1]!, tenantId: tenant, source: 'producer', now: new Date() },
              { attemptLimit: 3 },
            ),
          ];
          await persist([redrive]);
        }
        return store.page(scope, after, size);
      },
    };

    const { result } = await run(job, deps({ deadLetters: racing, pageSize: 1 }));

    expect(result).toMatchObject({ matched: 3, redriven: 2, skipped: 1 });
  });

  it('keeps to maxPerSecond, a page a second', async () => {
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    for (let s = 1; s <= 4; s++) await deadLetter(tenant, s);
    const started = Date.now();

    const { result } = await run(bulkJob('deadLetters.redrive', tenant, { maxPerSecond: 2 }));

    expect(result).toMatchObject({ redriven: 4 });
    // Two pages of two: the second waits for the first second to pass; the wait after the last ends at two.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
  });

  it('fails for good on a payload that is not a filter', async () => {
    const job = bulkJob('deadLetters.redrive', 'acme', { from: at(10).toISOString(), to: at(5).toISOString() });

    const err = await run(job).catch((e: unknown) => e);

    expect(toErrorInfo(err)).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
  });
});
