import { z } from 'zod';
import { parseOutboundAllowList } from '../http/address-policy';
import { envBool, envInt, envList, requiredWhen } from './load-config';

/** The signing key a development set-up runs with; services warn when they start with it. */
export const DEV_CALLBACK_SIGNING_KEY = 'jobline-development-callback-key';

/** The download-link signing key a development set-up runs with; services warn when they start with it. */
export const DEV_DOWNLOAD_SIGNING_KEY = 'jobline-development-download-key';

/** Connection settings shared by every service. Defaults point at the local stack (`npm run stack -- start`). */
export const InfraEnv = z.object({
  /** Comma-separated Kafka bootstrap brokers. @defaultValue `127.0.0.1:9092` */
  KAFKA_BROKERS: envList('127.0.0.1:9092').pipe(z.array(z.string().regex(/^[^:]+:\d+$/, 'expected host:port')).min(1)),
  /** Prefix of every Kafka topic name. @defaultValue `jobline.` */
  KAFKA_TOPIC_PREFIX: z.string().default('jobline.'),
  /** Partitions of the event topic when jobline creates it (fixed afterwards: the key decides the partition). @defaultValue 6 */
  KAFKA_EVENT_PARTITIONS: envInt(6, 1, 1000),
  /** Replication factor of the topics jobline creates. @defaultValue 1 */
  KAFKA_REPLICATION_FACTOR: envInt(1, 1, 10),
  /**
   * `min.insync.replicas` of the topics jobline creates: how many replicas must have a write before Kafka acknowledges
   * it, and so before the producer answers `202`; with fewer in sync, writes are refused (`503`) rather than kept on
   * too few brokers. At most `KAFKA_REPLICATION_FACTOR`; 2 with a factor of 3. @defaultValue the brokers' setting
   */
  KAFKA_MIN_INSYNC_REPLICAS: z.coerce.number().int().min(1).max(10).optional(),
  /**
   * How long the Kafka group waits for a silent runner or persister before giving its partitions to another member
   * (a crashed process is noticed after this). At least the broker's `group.min.session.timeout.ms`. @defaultValue 30000
   */
  KAFKA_SESSION_TIMEOUT_MS: envInt(30_000, 1_000, 3_600_000),
  /** MongoDB connection string. @defaultValue `mongodb://127.0.0.1:27017` */
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'expected a mongodb:// URI')
    .default('mongodb://127.0.0.1:27017'),
  /** MongoDB database name. @defaultValue `jobline` */
  MONGODB_DB: z.string().min(1).default('jobline'),
  /** Redis URL. @defaultValue `redis://127.0.0.1:6379` */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'expected a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key and channel. @defaultValue `jobline:` */
  REDIS_KEY_PREFIX: z.string().default('jobline:'),
  /** How long a job view stays in the Redis cache, in seconds. @defaultValue 86400 */
  JOB_CACHE_TTL_SECONDS: envInt(86_400),
  /** `error`, `warn`, `info`, `debug`. @defaultValue `info` */
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  /** `json` for machines, `pretty` for a terminal. @defaultValue `json` */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  /**
   * The deployment's secret from which each tenant's callback signing secret is derived (producer and consumer must
   * agree). Change it in production; changing it rotates every tenant's secret. @defaultValue a development key
   */
  CALLBACK_SIGNING_KEY: z.string().min(16, 'use at least 16 characters').default(DEV_CALLBACK_SIGNING_KEY),
  /**
   * What outbound HTTP (job callbacks, `http` jobs) may reach beyond public addresses: comma-separated CIDRs, IP
   * addresses and exact hostnames, e.g. `10.20.0.0/16,hooks.internal.example`. A listed hostname is trusted whatever
   * it resolves to. Loopback, private, link-local and CGNAT addresses are refused unless a CIDR here holds them;
   * cloud metadata addresses unless listed one by one.
   * @defaultValue empty: public addresses only
   */
  OUTBOUND_ALLOWLIST: z
    .string()
    .default('')
    .transform((value, ctx) => {
      try {
        return parseOutboundAllowList(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Where blobs (uploads, exports, fetched files) are kept: `file` (a local folder) or `s3`. @defaultValue `file` */
  BLOB_STORE: z.enum(['file', 's3']).default('file'),
  /** The folder of the `file` blob store, relative to the working directory. @defaultValue `.data/blobs` */
  BLOB_DIR: z.string().min(1).default('.data/blobs'),
  /** The bucket of the `s3` blob store; required when `BLOB_STORE` is `s3`. @defaultValue none */
  BLOB_S3_BUCKET: requiredWhen(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 of a-z, 0-9, ".", "-")')
      .optional(),
    { variable: 'BLOB_STORE', equals: 's3' },
  ),
  /** The bucket's region. @defaultValue `us-east-1` */
  BLOB_S3_REGION: z.string().min(1).default('us-east-1'),
  /** The S3 server's URL when it is not AWS (MinIO, Ceph…), e.g. `http://minio:9000`. @defaultValue AWS */
  BLOB_S3_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/[^/]/, 'expected an http:// or https:// URL')
    .optional(),
  /**
   * Address buckets by path (`<endpoint>/<bucket>`) rather than by host name (`<bucket>.<endpoint>`), as most
   * S3-compatible servers need. @defaultValue true when `BLOB_S3_ENDPOINT` is set, else false
   */
  BLOB_S3_FORCE_PATH_STYLE: envBool().optional(),
  /**
   * The secret download links are signed with (HMAC-SHA256); links signed with another key stop working when it
   * changes. Change it in production. @defaultValue a development key
   */
  DOWNLOAD_SIGNING_KEY: z.string().min(16, 'use at least 16 characters').default(DEV_DOWNLOAD_SIGNING_KEY),
});
export type InfraConfig = z.infer<typeof InfraEnv>;
