import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  allTopics,
  announceCancellation,
  connectMongo,
  connectRedis,
  createJobCache,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureIndexes,
  ensureTopics,
  joblineCollections,
  topicNames,
  type JoblineCollections,
  type Logger,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import type { Redis } from 'ioredis';
import { createApp, type AppDeps } from '../app';
import { createIdempotencyStore } from '../jobs/idempotency';
import { createJobReader } from '../jobs/job-reader';

/** A producer app listening on a free local port, for a test to call over HTTP. */
export interface ListeningApp {
  server: Server;
  baseUrl: string;
  close(): Promise<void>;
}

export async function listenApp(deps: AppDeps): Promise<ListeningApp> {
  const server = createApp(deps).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    server,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** MongoDB and Redis for one test namespace, with what the app reads through; `close()` drops the data it made. */
export async function connectTestStores(logger: Logger) {
  const ns = testNamespace();
  const infra = testInfra();
  const mongo: MongoConnection = await connectMongo(infra.mongoUri, ns.database);
  const redis: Redis = connectRedis(infra.redisUrl);
  await redis.connect();
  const collections: JoblineCollections = joblineCollections(mongo.db);
  await ensureIndexes(collections);
  const cache = createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 });
  return {
    ns,
    mongo,
    redis,
    collections,
    cache,
    reader: createJobReader({ cache, jobs: collections.jobs, jobEvents: collections.jobEvents, logger }),
    idempotency: createIdempotencyStore(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
    async close() {
      await mongo.db.dropDatabase();
      const keys = await redis.keys(`${ns.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await Promise.all([mongo.client.close(), redis.quit()]);
    },
  };
}

export type TestStores = Awaited<ReturnType<typeof connectTestStores>>;

export interface TestAppOptions {
  /** Kafka client id, to tell the tests' connections apart in broker logs. */
  clientId: string;
  /** @defaultValue 1 */
  eventPartitions?: number;
  /** @defaultValue a logger that prints errors only */
  logger?: Logger;
}

/**
 * The real stack (Kafka topics, MongoDB database, Redis keys) for one test namespace, and the producer app built on it.
 * `start()` listens with the shared deps plus overrides; `close()` stops every app started and removes what the
 * namespace created.
 */
export async function startTestApp({ clientId, eventPartitions = 1, logger = defaultLogger() }: TestAppOptions) {
  const stores = await connectTestStores(logger);
  const { ns, redis } = stores;
  const topics = topicNames(ns.topicPrefix);
  const kafka = createKafka({ brokers: testInfra().brokers, clientId, logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, { eventPartitions, replicationFactor: 1 }, logger);
  const publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 5000 });
  await publisher.connect();
  const deps: AppDeps = {
    publisher,
    cache: stores.cache,
    reader: stores.reader,
    announceCancellation: (jobId) => announceCancellation(redis, ns.redisPrefix, jobId),
    idempotency: stores.idempotency,
    batchMaxJobs: 5,
    tokens: new Map([
      ['token-a', 'tenant-a'],
      ['token-b', 'tenant-b'],
    ]),
    readiness: {},
    maxBodyBytes: 10_000,
    retryAfterSeconds: 7,
    logger,
    now: () => new Date(),
  };
  const apps: ListeningApp[] = [];

  return {
    ...stores,
    topics,
    kafka,
    admin,
    publisher,
    deps,
    async start(overrides: Partial<AppDeps> = {}): Promise<ListeningApp> {
      const app = await listenApp({ ...deps, ...overrides });
      apps.push(app);
      return app;
    },
    /** Messages ever written to the event topic. */
    async eventsInLog(): Promise<number> {
      return (await admin.fetchTopicOffsets(topics.events)).reduce((sum, p) => sum + Number(p.high), 0);
    },
    async close() {
      await Promise.all(apps.map((app) => app.close()));
      await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
      await Promise.all([publisher.disconnect(), admin.disconnect()]);
      await stores.close();
    },
  };
}

export type TestApp = Awaited<ReturnType<typeof startTestApp>>;

const defaultLogger = () => createLogger({ service: 'test', level: 'error' });
