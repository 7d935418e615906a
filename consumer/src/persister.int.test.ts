import {
  createJobCache,
  createKafkaEventPublisher,
  createLogger,
  ensureIndexes,
  joblineCollections,
  newEvent,
  topicNames,
  type JobEvent,
  type JoblineCollections,
  type KafkaEventPublisher,
  type MongoConnection,
} from '@jobline/libs';
import { aJobRequested, testNamespace, waitFor } from '@jobline/libs/testing';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import { createBatchPersister } from './persist-batch';
import { createPersister, type Persister } from './persister';
import { connectPersisterStack, type PersisterStack } from './testing/persister-stack';

const logger = createLogger({ service: 'test', level: 'error' });

function history(n: number): JobEvent[] {
  const jobId = randomUUID();
  const ctx = { jobId, tenantId: 'acme', source: 'runner' as const, now: new Date() };
  const events: JobEvent[] = [
    aJobRequested({ jobId, now: ctx.now, payload: { n }, metadata: { n: String(n) } }),
    newEvent('JobStarted', ctx, { attempt: 1, runnerId: 'r' }),
  ];
  if (n % 2 === 0) events.push(newEvent('JobCompleted', ctx, { attempt: 1, result: n, resultUrl: null }));
  return events;
}

describe('persister consumer loop against Kafka and MongoDB', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let mongo: MongoConnection;
  let redis: Redis;
  let collections: JoblineCollections;
  let persister: Persister | undefined;
  let stack: PersisterStack<KafkaEventPublisher>;

  beforeAll(async () => {
    stack = await connectPersisterStack(ns, {
      clientId: 'test-persister',
      logger,
      publisher: (client) => createKafkaEventPublisher(client, { topic: topics.events, timeoutMs: 5000 }),
    });
    ({ kafka, admin, publisher, mongo, redis } = stack);
    collections = joblineCollections(mongo.db);
    await ensureIndexes(collections);
  });

  afterAll(async () => {
    await persister?.stop();
    await stack.close();
  });

  async function startPersister() {
    persister = createPersister({
      kafka,
      admin,
      groupId: ns.persisterGroup,
      topic: topics.events,
      collections,
      persistBatch: createBatchPersister({
        collections,
        cache: createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
        topic: topics.events,
        logger,
        quarantine: async () => undefined,
      }),
      logger,
    });
    await persister.start();
  }

  const snapshot = async () =>
    (await collections.jobs.find({}).sort({ _id: 1 }).toArray()).map(({ position: _p, ...job }) => job);

  it('folds the log into the projection and rebuilds the same documents into a wiped database', async () => {
    const histories = Array.from({ length: 30 }, (_, n) => history(n));
    await publisher.publish(histories.flat());
    await startPersister();

    await waitFor(async () => (await collections.jobs.countDocuments({ status: 'completed' })) === 15, {
      description: '15 completed jobs in the projection',
    });
    await waitFor(async () => (await collections.jobs.countDocuments({ status: 'processing' })) === 15, {
      description: '15 processing jobs in the projection',
    });
    const live = await snapshot();
    const eventCount = await collections.jobEvents.countDocuments();
    expect(eventCount).toBe(75);
    await persister!.stop();

    await mongo.db.dropDatabase();
    await ensureIndexes(collections);
    await startPersister();

    await waitFor(async () => (await collections.jobEvents.countDocuments()) === 75, {
      description: 'the event log rebuilt from Kafka',
    });
    await waitFor(async () => JSON.stringify(await snapshot()) === JSON.stringify(live), {
      description: 'the rebuilt projection to equal the live one',
    });
  });
});
