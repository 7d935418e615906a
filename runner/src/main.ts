import {
  connectMongo,
  connectRedis,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureConfiguredTopics,
  joblineCollections,
  listenForCancellations,
  topicNames,
} from '@jobline/libs';
import { createProjectionLookup, createTopicSender } from './adapters';
import { loadRunnerConfig } from './config';
import { HANDLERS } from './handlers';
import { createRunnerConsumer } from './runner-consumer';

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
  await admin.disconnect();
  await Promise.all([publisher.connect(), sender.connect()]);
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const subscriber = connectRedis(config.REDIS_URL);
  await subscriber.connect();

  const runner = createRunnerConsumer({
    kafka,
    groupId: config.RUNNER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topics,
    concurrency: config.RUNNER_CONCURRENCY,
    typeConcurrency: config.RUNNER_TYPE_CONCURRENCY,
    execute: {
      publisher,
      handlers: HANDLERS,
      runnerId: config.RUNNER_ID,
      logger,
      now: () => new Date(),
      random: Math.random,
    },
    lookup: createProjectionLookup(joblineCollections(mongo.db)),
    send: sender.send,
    logger,
  });
  const stopListening = await listenForCancellations(subscriber, config.REDIS_KEY_PREFIX, (jobId) => {
    if (runner.cancel(jobId)) logger.info('aborting a cancelled job', { jobId });
  });

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal, inFlight: runner.inFlight });
    await runner
      .stop(config.RUNNER_SHUTDOWN_GRACE_MS)
      .catch((err: unknown) => logger.error('runner stop failed', { err: String(err) }));
    await stopListening();
    await Promise.allSettled([publisher.disconnect(), sender.disconnect(), mongo.client.close(), subscriber.quit()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await runner.start();
  logger.info('runner consuming', {
    topic: topics.events,
    group: config.RUNNER_GROUP_ID,
    concurrency: config.RUNNER_CONCURRENCY,
  });
}

run().catch((err: unknown) => {
  createLogger({ service: 'runner' }).error('runner failed to start', {
    err: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
});
