import cluster from 'node:cluster';
import {
  announceCancellation,
  connectMongo,
  connectRedis,
  createBlobStore,
  createJobCache,
  DEV_DOWNLOAD_SIGNING_KEY,
  dataCollections,
  ensureDataIndexes,
  jobFromDocument,
  toJobView,
  createJobChangeHub,
  createKafka,
  createKafkaEventPublisher,
  createKafkaSchedulePublisher,
  createScheduleCache,
  ensureScheduleIndexes,
  scheduleCollections,
  createKafkaPausePublisher,
  createPauseCache,
  ensurePauseIndexes,
  pauseCollections,
  createLogger,
  createMetricsRegistry,
  ensureConfiguredTopics,
  infraReadiness,
  ensureIndexes,
  joblineCollections,
  startOpsServer,
  topicNames,
} from '@jobline/libs';
import { createApp } from './app';
import { cachedTokenLookup } from './auth/auth';
import { answerOpsRequests } from './cluster/cluster-ops';
import { runPrimary } from './cluster/cluster-primary';
import { createIdempotencyStore } from './jobs/idempotency';
import { loadProducerConfig } from './config';
import { createJobReader } from './jobs/job-reader';
import { readJobStats } from './jobs/job-stats';
import { signedDownloadLinks } from './data/download-links';
import { jobStreams } from './jobs/job-streams';
import { createProducerMetrics } from './http/request-telemetry';
import { apiTokensCollection, createTokenStore, ensureTokenIndexes } from './auth/tokens';

async function run() {
  const config = loadProducerConfig();
  const rootLogger = createLogger({ service: 'producer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  if (config.PRODUCER_WORKERS > 1 && cluster.isPrimary) process.exit(await runPrimary(config, rootLogger));
  // Workers share the primary's stdout: their lines carry the pid.
  const logger = cluster.isWorker ? rootLogger.child({ pid: process.pid }) : rootLogger;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-producer', logger });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const publisher = createKafkaEventPublisher(kafka, {
    topic: topics.events,
    timeoutMs: config.KAFKA_PUBLISH_TIMEOUT_MS,
  });
  const schedulePublisher = createKafkaSchedulePublisher(kafka, {
    topic: topics.schedules,
    timeoutMs: config.KAFKA_PUBLISH_TIMEOUT_MS,
  });
  const pausePublisher = createKafkaPausePublisher(kafka, {
    topic: topics.pauses,
    timeoutMs: config.KAFKA_PUBLISH_TIMEOUT_MS,
  });
  const admin = kafka.admin();
  const redis = connectRedis(config.REDIS_URL, { pipelineConcurrentCommands: true });
  const subscriber = connectRedis(config.REDIS_URL);
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  await Promise.all([
    publisher.connect(),
    schedulePublisher.connect(),
    pausePublisher.connect(),
    admin.connect(),
    redis.connect(),
    subscriber.connect(),
  ]);
  await ensureConfiguredTopics(admin, config, logger);
  const collections = joblineCollections(mongo.db);
  await ensureIndexes(collections);
  const schedules = scheduleCollections(mongo.db);
  await ensureScheduleIndexes(schedules);
  const pauses = pauseCollections(mongo.db);
  await ensurePauseIndexes(pauses);
  const apiTokens = apiTokensCollection(mongo.db);
  await ensureTokenIndexes(apiTokens);
  const cache = createJobCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.JOB_CACHE_TTL_SECONDS });
  const registry = createMetricsRegistry('producer');
  const readiness = infraReadiness({ admin, topic: topics.events, db: mongo.db, redis });

  const data = dataCollections(mongo.db);
  await ensureDataIndexes(data);
  if (config.DOWNLOAD_SIGNING_KEY === DEV_DOWNLOAD_SIGNING_KEY) {
    logger.warn('DOWNLOAD_SIGNING_KEY is the development key: set your own before download links leave this machine');
  }
  const reader = createJobReader({ cache, jobs: collections.jobs, jobEvents: collections.jobEvents, logger });
  const hub = createJobChangeHub(subscriber, config.REDIS_KEY_PREFIX, logger);
  const streams = jobStreams({
    hub,
    reader,
    logger,
    heartbeatMs: config.SSE_HEARTBEAT_MS,
    maxStreams: config.SSE_MAX_STREAMS,
  });

  const blobs = createBlobStore(config);
  const app = createApp({
    publisher,
    cache,
    reader,
    streams,
    blobs,
    callbackSigningKey: config.CALLBACK_SIGNING_KEY,
    schedules: {
      publisher: schedulePublisher,
      cache: createScheduleCache(redis, {
        keyPrefix: config.REDIS_KEY_PREFIX,
        ttlSeconds: config.JOB_CACHE_TTL_SECONDS,
      }),
      schedules: schedules.schedules,
    },
    pauses: {
      publisher: pausePublisher,
      cache: createPauseCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.JOB_CACHE_TTL_SECONDS }),
      pauses: pauses.pauses,
    },
    stats: (tenantId, window) => readJobStats(collections.jobs, tenantId, window),
    data: {
      blobs,
      collections: data,
      links: signedDownloadLinks(config.DOWNLOAD_SIGNING_KEY, config.DOWNLOAD_LINK_TTL_SECONDS, () => new Date()),
      maxUploadBytes: config.IMPORT_MAX_BYTES,
      findAnyTenant: async (jobId) => {
        const doc = await collections.jobs.findOne({ _id: jobId });
        return doc ? toJobView(jobFromDocument(doc)) : null;
      },
    },
    announceCancellation: (jobId) => announceCancellation(redis, config.REDIS_KEY_PREFIX, jobId),
    idempotency: createIdempotencyStore(redis, {
      keyPrefix: config.REDIS_KEY_PREFIX,
      ttlSeconds: config.IDEMPOTENCY_TTL_SECONDS,
    }),
    batchMaxJobs: config.BATCH_MAX_JOBS,
    maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
    outboundAllowList: config.OUTBOUND_ALLOWLIST,
    tokens: config.API_TOKENS,
    tokenLookup: cachedTokenLookup(createTokenStore(apiTokens)),
    rateLimit: {
      redis,
      keyPrefix: config.REDIS_KEY_PREFIX,
      defaultLimit: { points: config.RATE_LIMIT_PER_MINUTE, windowSeconds: 60 },
      logger,
    },
    corsOrigins: config.CORS_ORIGINS,
    readiness,
    metrics: createProducerMetrics(registry),
    maxBodyBytes: config.MAX_BODY_BYTES,
    retryAfterSeconds: config.RETRY_AFTER_SECONDS,
    logger,
    now: () => new Date(),
  });
  // A worker's metrics and readiness reach the ops port through the primary, which alone listens on it.
  if (cluster.isWorker) answerOpsRequests({ registry, readiness });
  const ops = cluster.isWorker
    ? null
    : await startOpsServer({ port: config.METRICS_PORT, host: config.HOST, registry, readiness, logger });
  const server = app.listen(config.PORT, config.HOST);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // Signals may come twice, a worker's from its process group and from the primary: the first starts the one shutdown,
  // later ones must not end the process halfway through it.
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { signal });
    streams.closeAll();
    await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ops?.close()]);
    await Promise.allSettled([
      publisher.disconnect(),
      schedulePublisher.disconnect(),
      pausePublisher.disconnect(),
      admin.disconnect(),
      redis.quit(),
      hub.close(),
      mongo.client.close(),
    ]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  logger.info('producer listening', {
    port: config.PORT,
    host: config.HOST,
    metricsPort: ops?.port ?? null,
    topic: topics.events,
  });
}

run().catch((err: unknown) => {
  const logger = createLogger({ service: 'producer' });
  logger.error('producer failed to start', { err: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
