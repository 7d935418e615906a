import {
  connectMongo,
  connectRedis,
  createJobCache,
  createKafka,
  createLogger,
  createMetricsRegistry,
  ensureConfiguredTopics,
  infraReadiness,
  ensureIndexes,
  checkpointId,
  createGuardedHttpClient,
  DEV_CALLBACK_SIGNING_KEY,
  publishJobChanges,
  signedDownloadPath,
  tenantCallbackSecret,
  joblineCollections,
  createScheduleCache,
  ensureScheduleIndexes,
  scheduleCollections,
  createPauseCache,
  ensurePauseIndexes,
  pauseCollections,
  startOpsServer,
  topicNames,
} from '@jobline/libs';
import { Partitioners } from 'kafkajs';
import { loadConsumerConfig } from './config';
import { createCallbackDispatcher } from './callback-dispatcher';
import { createCallbackMetrics } from './callback-metrics';
import { createJobMailer } from './job-mailer';
import { createBatchPersister, type PoisonMessage } from './persist-batch';
import { createPersister } from './persister';
import { createPersisterMetrics } from './persister-metrics';
import { createSchedulePersister } from './persist-schedules';
import { createPausePersister } from './persist-pauses';

async function run() {
  const config = loadConsumerConfig();
  const logger = createLogger({ service: 'consumer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-persister', logger });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const admin = kafka.admin();
  const quarantineProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const redis = connectRedis(config.REDIS_URL, { pipelineConcurrentCommands: true });
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const collections = joblineCollections(mongo.db);
  await ensureIndexes(collections);
  const schedules = scheduleCollections(mongo.db);
  await ensureScheduleIndexes(schedules);
  const pauses = pauseCollections(mongo.db);
  await ensurePauseIndexes(pauses);
  await Promise.all([admin.connect(), quarantineProducer.connect(), redis.connect()]);
  await ensureConfiguredTopics(admin, config, logger);

  const registry = createMetricsRegistry('consumer');
  const http = createGuardedHttpClient({
    allowList: config.OUTBOUND_ALLOWLIST,
    timeoutMs: config.CALLBACK_TIMEOUT_MS,
    maxResponseBytes: 64 * 1024,
    userAgent: 'jobline-callbacks/1',
  });
  if (config.CALLBACK_SIGNING_KEY === DEV_CALLBACK_SIGNING_KEY) {
    logger.warn('CALLBACK_SIGNING_KEY is the development key: set your own before callbacks leave this machine');
  }
  const mailer = config.SMTP_URL
    ? createJobMailer({
        smtpUrl: config.SMTP_URL,
        from: config.MAIL_FROM,
        publicBaseUrl: config.PUBLIC_BASE_URL,
        timeoutMs: config.CALLBACK_TIMEOUT_MS,
        signDownload: (path) =>
          signedDownloadPath({
            path,
            expiresAt: new Date(Date.now() + config.MAIL_LINK_TTL_SECONDS * 1000),
            key: config.DOWNLOAD_SIGNING_KEY,
          }),
      })
    : null;
  const callbackMetrics = createCallbackMetrics(registry);
  const callbacks = createCallbackDispatcher({
    deliveries: collections.callbackDeliveries,
    post: async ({ url, body, headers }) => http.request({ method: 'POST', url, body, headers }),
    ...(mailer ? { mail: (to, view) => mailer.send(to, view) } : {}),
    secretFor: (tenantId) => tenantCallbackSecret(config.CALLBACK_SIGNING_KEY, tenantId),
    logger,
    now: () => new Date(),
    concurrency: config.CALLBACK_CONCURRENCY,
    maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
    leaseMs: config.CALLBACK_TIMEOUT_MS * 3,
    onOutcome: callbackMetrics.outcome,
  });

  const quarantineFrom = (topic: string) => async (messages: PoisonMessage[]) => {
    await quarantineProducer.send({
      topic: topics.quarantine,
      acks: -1,
      messages: messages.map((m) => ({
        value: m.value,
        headers: {
          'jobline-source-topic': topic,
          'jobline-source-partition': String(m.partition),
          'jobline-source-offset': String(m.offset),
          'jobline-reason': m.reason,
        },
      })),
    });
  };
  const persistBatch = createBatchPersister({
    collections,
    cache: createJobCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.JOB_CACHE_TTL_SECONDS }),
    topic: topics.events,
    logger,
    quarantine: quarantineFrom(topics.events),
    publishChanges: (changes) => publishJobChanges(redis, config.REDIS_KEY_PREFIX, changes),
    scheduleCallbacks: true,
    callbacksScheduled: () => callbacks.wake(),
  });
  const offsets = (side: 'low' | 'high') => async () =>
    new Map((await admin.fetchTopicOffsets(topics.events)).map((o) => [o.partition, Number(o[side])]));
  const metrics = createPersisterMetrics(
    registry,
    {
      partitions: () => persister.assigned,
      logEnds: offsets('high'),
      logStarts: offsets('low'),
      nextOffsets: async (partitions) => {
        const ids = partitions.map((partition) => checkpointId(topics.events, partition));
        const found = await collections.checkpoints.find({ _id: { $in: ids } }).toArray();
        return new Map(found.map((c) => [c.partition, c.nextOffset]));
      },
    },
    logger,
  );
  const persister = createPersister({
    kafka,
    admin,
    groupId: config.PERSISTER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topic: topics.events,
    collections,
    persistBatch,
    fetchWaitMs: config.PERSISTER_FETCH_WAIT_MS,
    logger,
    metrics,
  });
  // Schedule changes are folded by a persister of their own, in its own group, beside the job events'.
  const schedulePersister = createPersister({
    kafka,
    admin,
    groupId: `${config.PERSISTER_GROUP_ID}-schedules`,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topic: topics.schedules,
    collections,
    persistBatch: createSchedulePersister({
      collections: schedules,
      cache: createScheduleCache(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        ttlSeconds: config.JOB_CACHE_TTL_SECONDS,
      }),
      topic: topics.schedules,
      logger,
      quarantine: quarantineFrom(topics.schedules),
    }),
    fetchWaitMs: config.PERSISTER_FETCH_WAIT_MS,
    logger,
  });
  // And pauses and resumes by a third, so that `GET /v1/pauses` reads them from MongoDB.
  const pausePersister = createPersister({
    kafka,
    admin,
    groupId: `${config.PERSISTER_GROUP_ID}-pauses`,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topic: topics.pauses,
    collections,
    persistBatch: createPausePersister({
      collections: pauses,
      cache: createPauseCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.JOB_CACHE_TTL_SECONDS }),
      topic: topics.pauses,
      logger,
      quarantine: quarantineFrom(topics.pauses),
    }),
    fetchWaitMs: config.PERSISTER_FETCH_WAIT_MS,
    logger,
  });

  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    registry,
    logger,
    readiness: infraReadiness({ admin, topic: topics.events, db: mongo.db, redis: redis }),
  });

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal });
    await ops?.close();
    await Promise.all(
      [persister, schedulePersister, pausePersister].map((p) =>
        p.stop().catch((err: unknown) => logger.error('persister stop failed', { err })),
      ),
    );
    await callbacks.stop();
    await http.close();
    mailer?.close();
    await Promise.allSettled([admin.disconnect(), quarantineProducer.disconnect(), redis.quit(), mongo.client.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await Promise.all([persister.start(), schedulePersister.start(), pausePersister.start()]);
  callbacks.start();
  logger.info('persister consuming', {
    topic: topics.events,
    group: config.PERSISTER_GROUP_ID,
    metricsPort: ops?.port ?? null,
  });
}

run().catch((err: unknown) => {
  createLogger({ service: 'consumer' }).error('consumer failed to start', {
    err: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
});
