import { randomUUID } from 'node:crypto';
import {
  connectMongo,
  connectRedis,
  createKafka,
  createKafkaEventPublisher,
  createBlobStore,
  dataCollections,
  ensureDataIndexes,
  createGuardedHttpClient,
  createLogger,
  createMetricsRegistry,
  DEV_CALLBACK_SIGNING_KEY,
  ensureConfiguredTopics,
  infraReadiness,
  joblineCollections,
  listenForCancellations,
  startOpsServer,
  tenantLimitsCollection,
  topicNames,
} from '@jobline/libs';
import { createProjectionLookup, createTopicSender } from './adapters';
import { loadRunnerConfig } from './config';
import { booksCollection, ensureBookIndexes } from './books/book-store';
import { bulkRunsCollection, mongoBulkRunStore, mongoDeadLetterStore } from './dead-letters/dead-letter-store';
import { createHandlers } from './handlers';
import { createRunnerConsumer } from './runner-consumer';
import { createRunnerMetrics } from './runner-metrics';
import { createScheduleFirer } from './schedules/schedule-firer';
import { createScheduleMetrics } from './schedules/schedule-metrics';
import { createPauseView } from './pauses/pause-view';
import { createTenantLimitRefresher } from './tenants/tenant-limit-refresher';
import { createTenantLimitStore } from './tenants/tenant-limit-store';

async function run() {
  const config = loadRunnerConfig();
  const logger = createLogger({ service: 'runner', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-runner', logger });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
  const sender = createTopicSender(kafka);
  const admin = kafka.admin();
  await admin.connect();
  await ensureConfiguredTopics(admin, config, logger);
  await Promise.all([publisher.connect(), sender.connect()]);
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const subscriber = connectRedis(config.REDIS_URL);
  await subscriber.connect();

  const http = createGuardedHttpClient({ allowList: config.OUTBOUND_ALLOWLIST, userAgent: 'jobline-http/1' });
  const blobs = createBlobStore(config);
  const data = dataCollections(mongo.db);
  const books = booksCollection(mongo.db);
  const jobline = joblineCollections(mongo.db);
  await Promise.all([ensureDataIndexes(data), ensureBookIndexes(books)]);
  if (config.CALLBACK_SIGNING_KEY === DEV_CALLBACK_SIGNING_KEY) {
    logger.warn('CALLBACK_SIGNING_KEY is the development key: set your own before http jobs call other machines');
  }

  const registry = createMetricsRegistry('runner');
  const metrics = createRunnerMetrics(registry, {
    running: () => runner.inFlight,
    concurrency: config.RUNNER_CONCURRENCY,
    waiting: () => runner.waiting,
    queued: () => runner.queued,
  });
  const pauseView = createPauseView({
    kafka,
    topic: topics.pauses,
    groupId: `${config.RUNNER_GROUP_ID}-pauses-${config.RUNNER_ID}-${randomUUID().slice(0, 8)}`,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    logger,
  });
  const runner = createRunnerConsumer({
    kafka,
    groupId: config.RUNNER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topics,
    concurrency: config.RUNNER_CONCURRENCY,
    typeConcurrency: config.RUNNER_TYPE_CONCURRENCY,
    tenantConcurrency: config.RUNNER_TENANT_CONCURRENCY,
    tenantConcurrencyOverrides: config.RUNNER_TENANT_LIMITS,
    maxPending: config.RUNNER_MAX_PENDING,
    paused: pauseView,
    execute: {
      publisher,
      handlers: createHandlers({
        http,
        callbackSigningKey: config.CALLBACK_SIGNING_KEY,
        blobs,
        data,
        books,
        deadLetters: {
          deadLetters: mongoDeadLetterStore(jobline),
          bulkRuns: mongoBulkRunStore(bulkRunsCollection(mongo.db)),
          publisher,
          now: () => new Date(),
        },
      }),
      runnerId: config.RUNNER_ID,
      logger,
      now: () => new Date(),
      random: Math.random,
      metrics,
    },
    lookup: createProjectionLookup(jobline),
    send: sender.send,
    logger,
  });
  const tenantLimitStore = createTenantLimitStore(tenantLimitsCollection(mongo.db));
  const tenantLimits = createTenantLimitRefresher({
    read: () => tenantLimitStore.list(),
    envLimits: config.RUNNER_TENANT_LIMITS,
    apply: (limits) => runner.setTenantLimits(limits),
    intervalMs: config.RUNNER_TENANT_LIMITS_REFRESH_MS,
    logger,
  });
  const scheduleMetrics = createScheduleMetrics(registry, () => firer.firing);
  const firer = createScheduleFirer({
    kafka,
    groupId: `${config.RUNNER_GROUP_ID}-schedules`,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topic: topics.schedules,
    publish: (events) => publisher.publish(events),
    lookup: createProjectionLookup(joblineCollections(mongo.db)),
    logger,
    fired: scheduleMetrics.fired,
  });
  const stopListening = await listenForCancellations(subscriber, config.REDIS_KEY_PREFIX, (jobId) => {
    if (runner.cancel(jobId)) logger.info('aborting a cancelled job', { jobId });
  });

  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    registry,
    logger,
    readiness: infraReadiness({ admin, topic: topics.events, db: mongo.db, redis: subscriber }),
  });

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal, inFlight: runner.inFlight });
    await ops?.close();
    tenantLimits.stop();
    await runner
      .stop(config.RUNNER_SHUTDOWN_GRACE_MS)
      .catch((err: unknown) => logger.error('runner stop failed', { err: String(err) }));
    await firer.stop().catch((err: unknown) => logger.error('schedule firer stop failed', { err }));
    await pauseView.stop().catch((err: unknown) => logger.error('pause view stop failed', { err }));
    await stopListening();
    await Promise.allSettled([
      publisher.disconnect(),
      sender.disconnect(),
      admin.disconnect(),
      mongo.client.close(),
      subscriber.quit(),
      http.close(),
    ]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  // Every pause already in the log, and every tenant's limit, is known before the first job can start.
  await pauseView.start();
  await tenantLimits.start();
  await runner.start();
  await firer.start();
  logger.info('runner consuming', {
    topic: topics.events,
    group: config.RUNNER_GROUP_ID,
    concurrency: config.RUNNER_CONCURRENCY,
    metricsPort: ops?.port ?? null,
  });
}

run().catch((err: unknown) => {
  createLogger({ service: 'runner' }).error('runner failed to start', {
    err: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
});
