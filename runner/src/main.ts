import {
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureConfiguredTopics,
  topicNames,
} from '@jobline/libs';
import { loadRunnerConfig } from './config';
import { HANDLERS } from './handlers';
import { createRunnerConsumer } from './runner-consumer';

const SHUTDOWN_GRACE_MS = 10_000;

async function run() {
  const config = loadRunnerConfig();
  const logger = createLogger({ service: 'runner', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-runner', logger });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
  const admin = kafka.admin();
  await admin.connect();
  await ensureConfiguredTopics(admin, config, logger);
  await admin.disconnect();
  await publisher.connect();

  const runner = createRunnerConsumer({
    kafka,
    groupId: config.RUNNER_GROUP_ID,
    topic: topics.events,
    concurrency: config.RUNNER_CONCURRENCY,
    execute: {
      publisher,
      handlers: HANDLERS,
      runnerId: config.RUNNER_ID,
      logger,
      now: () => new Date(),
      random: Math.random,
    },
    logger,
  });

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal, inFlight: runner.inFlight });
    await runner
      .stop(SHUTDOWN_GRACE_MS)
      .catch((err: unknown) => logger.error('runner stop failed', { err: String(err) }));
    await publisher.disconnect().catch(() => undefined);
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
