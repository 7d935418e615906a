import { randomUUID } from 'node:crypto';
import type { Env } from '../config/load-config';

/** Names that keep one test's topics, groups, database and keys apart from every other test's. */
export interface TestNamespace {
  id: string;
  topicPrefix: string;
  database: string;
  redisPrefix: string;
  persisterGroup: string;
  runnerGroup: string;
  /** Environment for a service process started by the test. */
  env: Env;
}

export function testNamespace(): TestNamespace {
  const id = randomUUID().slice(0, 8);
  const ns = {
    id,
    topicPrefix: `test-${id}.`,
    database: `test_${id}`,
    redisPrefix: `test:${id}:`,
    persisterGroup: `test-${id}-persister`,
    runnerGroup: `test-${id}-runner`,
  };
  return {
    ...ns,
    env: {
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      MONGODB_URI: process.env.MONGODB_URI,
      REDIS_URL: process.env.REDIS_URL,
      KAFKA_TOPIC_PREFIX: ns.topicPrefix,
      KAFKA_EVENT_PARTITIONS: '3',
      MONGODB_DB: ns.database,
      REDIS_KEY_PREFIX: ns.redisPrefix,
      PERSISTER_GROUP_ID: ns.persisterGroup,
      RUNNER_GROUP_ID: ns.runnerGroup,
    },
  };
}

/** Connection settings chosen by the test set-up (environment, containers or the local stack). */
export function testInfra() {
  const { KAFKA_BROKERS, MONGODB_URI, REDIS_URL } = process.env;
  if (!KAFKA_BROKERS || !MONGODB_URI || !REDIS_URL) {
    throw new Error(
      'test infrastructure is not configured: run the tests through jest, whose global set-up provides it',
    );
  }
  return { brokers: KAFKA_BROKERS.split(','), mongoUri: MONGODB_URI, redisUrl: REDIS_URL };
}

/** What the tests sign S3 requests with when no credentials are set; the local stack's S3 server takes any. */
const TEST_S3_CREDENTIALS = { accessKeyId: 'jobline-test', secretAccessKey: 'jobline-test-secret' };

/**
 * The S3-compatible server chosen by the test set-up (`S3_ENDPOINT`: moto's server in the local stack, MinIO in
 * containers), with the credentials in `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (the containers set-up gives
 * MinIO's), else test ones.
 */
export function testS3() {
  const endpoint = process.env.S3_ENDPOINT;
  if (!endpoint) {
    throw new Error('S3_ENDPOINT is not set: run the tests through jest, whose global set-up provides it');
  }
  return {
    endpoint,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? TEST_S3_CREDENTIALS.accessKeyId,
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? TEST_S3_CREDENTIALS.secretAccessKey,
    },
  };
}
