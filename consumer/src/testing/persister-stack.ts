import {
  allTopics,
  connectMongo,
  connectRedis,
  createKafka,
  ensureTopics,
  topicNames,
  type Logger,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, type TestNamespace } from '@jobline/libs/testing';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';

interface Publisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

export interface PersisterStackOptions<P extends Publisher> {
  /** Kafka client id, to tell the tests' connections apart in broker logs. */
  clientId: string;
  logger: Logger;
  /** The publisher that writes the test's log: of job, schedule or pause events. */
  publisher(kafka: Kafka): P;
}

export interface PersisterStack<P extends Publisher> {
  kafka: Kafka;
  admin: Admin;
  publisher: P;
  mongo: MongoConnection;
  redis: Redis;
  close(): Promise<void>;
}

/**
 * What a persister test runs against, for the test namespace `ns`: its Kafka topics (3 event partitions), a connected
 * admin and publisher, its MongoDB database and Redis. `close()` deletes the topics, the database and the namespace's
 * Redis keys, and disconnects; stop the persister first.
 */
export async function connectPersisterStack<P extends Publisher>(
  ns: TestNamespace,
  { clientId, logger, publisher: createPublisher }: PersisterStackOptions<P>,
): Promise<PersisterStack<P>> {
  const infra = testInfra();
  const topics = topicNames(ns.topicPrefix);
  const kafka = createKafka({ brokers: infra.brokers, clientId, logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
  const publisher = createPublisher(kafka);
  await publisher.connect();
  const mongo = await connectMongo(infra.mongoUri, ns.database);
  const redis = connectRedis(infra.redisUrl);
  await redis.connect();
  return {
    kafka,
    admin,
    publisher,
    mongo,
    redis,
    async close() {
      await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
      await mongo.db.dropDatabase();
      const keys = await redis.keys(`${ns.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await Promise.all([publisher.disconnect(), admin.disconnect(), mongo.client.close(), redis.quit()]);
    },
  };
}
