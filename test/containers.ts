import { GenericContainer, Wait } from 'testcontainers';

/** Image versions match docker-compose.yml. */
export const IMAGES = {
  kafka: 'apache/kafka:3.9.2',
  mongo: 'mongo:7.0',
  redis: 'redis:7.2-alpine',
  minio: 'quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z',
};

/** The MinIO container's root user, which the S3 blob store's tests sign in as. */
const MINIO_USER = { AWS_ACCESS_KEY_ID: 'jobline-test', AWS_SECRET_ACCESS_KEY: 'jobline-test-secret' };

const KAFKA_PORT = 9092;

/** Starts Kafka (KRaft, single node), MongoDB, Redis and MinIO containers and returns how to reach them. */
export async function startContainers() {
  const [kafka, mongo, redis, minio] = await Promise.all([
    new GenericContainer(IMAGES.kafka)
      .withExposedPorts({ container: KAFKA_PORT, host: KAFKA_PORT })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: `PLAINTEXT://:${KAFKA_PORT},CONTROLLER://:9093`,
        KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${KAFKA_PORT}`,
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start(),
    new GenericContainer(IMAGES.mongo).withExposedPorts(27017).start(),
    new GenericContainer(IMAGES.redis).withExposedPorts(6379).start(),
    new GenericContainer(IMAGES.minio)
      .withExposedPorts(9000)
      .withEnvironment({
        MINIO_ROOT_USER: MINIO_USER.AWS_ACCESS_KEY_ID,
        MINIO_ROOT_PASSWORD: MINIO_USER.AWS_SECRET_ACCESS_KEY,
      })
      .withCommand(['server', '/data'])
      .withWaitStrategy(Wait.forHttp('/minio/health/ready', 9000))
      .start(),
  ]);
  return {
    ids: [kafka.getId(), mongo.getId(), redis.getId(), minio.getId()],
    env: {
      KAFKA_BROKERS: `127.0.0.1:${KAFKA_PORT}`,
      MONGODB_URI: `mongodb://${mongo.getHost()}:${mongo.getMappedPort(27017)}`,
      REDIS_URL: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
      S3_ENDPOINT: `http://${minio.getHost()}:${minio.getMappedPort(9000)}`,
      ...MINIO_USER,
    },
  };
}
