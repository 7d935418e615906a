import {
  connectMongo,
  connectRedis,
  createJobCache,
  createKafka,
  createLogger,
  ensureConfiguredTopics,
  ensureIndexes,
  joblineCollections,
  topicNames,
} from '@jobline/libs';
import { Partitioners } from 'kafkajs';
import { loadConsumerConfig } from './config';
import { createBatchPersister } from './persist-batch';
import { createPersister } from './persister';

async function run() {
  const config = loadConsumerConfig();
  const logger = createLogger({ service: 'consumer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-persister', logger });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const admin = kafka.admin();
  const quarantineProducer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  const redis = connectRedis(config.REDIS_URL);
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
  const collections = joblineCollections(mongo.db);
  await ensureIndexes(collections);
  await Promise.all([admin.connect(), quarantineProducer.connect(), redis.connect()]);
  await ensureConfiguredTopics(admin, config, logger);

  const persistBatch = createBatchPersister({
    collections,
    cache: createJobCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, ttlSeconds: config.JOB_CACHE_TTL_SECONDS }),
    topic: topics.events,
    logger,
    quarantine: async (messages) => {
      await quarantineProducer.send({
        topic: topics.quarantine,
        acks: -1,
        messages: messages.map((m) => ({
          value: m.value,
          headers: {
            'jobline-source-partition': String(m.partition),
            'jobline-source-offset': String(m.offset),
            'jobline-reason': m.reason,
          },
        })),
      });
    },
  });
  const persister = createPersister({
    kafka,
    admin,
    groupId: config.PERSISTER_GROUP_ID,
    sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    topic: topics.events,
    collections,
    persistBatch,
    logger,
  });

  const shutdown = async (signal: string) => {
    logger.info('shutting down', { signal });
    await persister.stop().catch((err: unknown) => logger.error('persister stop failed', { err: String(err) }));
    await Promise.allSettled([admin.disconnect(), quarantineProducer.disconnect(), redis.quit(), mongo.client.close()]);
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await persister.start();
  logger.info('persister consuming', { topic: topics.events, group: config.PERSISTER_GROUP_ID });
}

run().catch((err: unknown) => {
  createLogger({ service: 'consumer' }).error('consumer failed to start', {
    err: err instanceof Error ? err.message : String(err),
  });
  process.exit(1);
});
