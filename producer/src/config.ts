import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { InfraEnv, envInt, envList, loadConfig, type Env } from '@jobline/libs';
import { parseApiTokens } from './auth/auth';

export const ProducerEnv = InfraEnv.extend({
  /** HTTP port. @defaultValue 3000 */
  PORT: envInt(3000, 1, 65535),
  /** Interface to listen on. @defaultValue `0.0.0.0` */
  HOST: z.string().default('0.0.0.0'),
  /**
   * HTTP worker processes sharing `PORT` (node:cluster), or `auto` for one per core (`os.availableParallelism()`).
   * 1 serves the API from this process, without a cluster. With more, this process only supervises them: it restarts
   * one that dies, drains them on SIGTERM/SIGINT, and serves `METRICS_PORT` with their metrics added up. @defaultValue 1
   */
  PRODUCER_WORKERS: z
    .string()
    .default('1')
    .transform((value, ctx) => {
      const workers = value === 'auto' ? availableParallelism() : Number(value);
      if (Number.isInteger(workers) && workers >= 1 && workers <= 256) return workers;
      ctx.addIssue({ code: 'custom', message: 'expected `auto` or a whole number from 1 to 256' });
      return z.NEVER;
    }),
  /** Port of `/metrics`, `/health` and `/ready`, apart from the API and without authentication; 0 disables. @defaultValue 9100 */
  METRICS_PORT: envInt(9100, 0, 65535),
  /** `token:tenant` pairs, comma-separated. @defaultValue `dev-token:dev` */
  API_TOKENS: z
    .string()
    .default('dev-token:dev')
    .transform((value, ctx) => {
      try {
        return parseApiTokens(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  /** Longest wait for Kafka's acknowledgement before answering 503. @defaultValue 5000 */
  KAFKA_PUBLISH_TIMEOUT_MS: envInt(5000, 100, 120_000),
  /** How long an Idempotency-Key is remembered, in seconds. @defaultValue 86400 (24 hours) */
  IDEMPOTENCY_TTL_SECONDS: envInt(86_400, 60, 30 * 86_400),
  /** Seconds a client should wait before retrying after a 503. @defaultValue 5 */
  RETRY_AFTER_SECONDS: envInt(5, 1, 3600),
  /** Largest accepted request body, in bytes. @defaultValue 1048576 */
  MAX_BODY_BYTES: envInt(1_048_576, 1024, 64 * 1_048_576),
  /** Largest job payload, serialized as JSON, in bytes; a larger one is a 400 naming `payload`. @defaultValue 262144 */
  MAX_PAYLOAD_BYTES: envInt(262_144, 1024, 64 * 1_048_576),
  /** Most jobs one `POST /v1/jobs/batch` may create; their events go to Kafka in one publish. @defaultValue 100 */
  BATCH_MAX_JOBS: envInt(100, 1, 1000),
  /** Requests one token may make per minute, unless the token has its own limit. @defaultValue 600 */
  RATE_LIMIT_PER_MINUTE: envInt(600, 1, 1_000_000),
  /** Largest file one `POST /v1/imports` may upload, in bytes. @defaultValue 1073741824 (1 GiB) */
  IMPORT_MAX_BYTES: envInt(1_073_741_824, 1024, 64 * 1_073_741_824),
  /** How long a signed export download link stays valid, in seconds. @defaultValue 3600 */
  DOWNLOAD_LINK_TTL_SECONDS: envInt(3600, 60, 7 * 86_400),
  /** Keep-alive interval of event streams, and how often a job stream checks MongoDB for changes it missed. @defaultValue 15000 */
  SSE_HEARTBEAT_MS: envInt(15_000, 100, 300_000),
  /** Event streams one producer process serves at once; more are answered 503. @defaultValue 1000 */
  SSE_MAX_STREAMS: envInt(1000, 1, 100_000),
  /** Origins browsers may call the API from, comma-separated, or `*`; none sends no CORS headers. @defaultValue none */
  CORS_ORIGINS: envList('').pipe(
    z.array(
      z.string().refine((origin) => origin === '*' || /^https?:\/\/[^/\s]+$/.test(origin), {
        message: 'expected `*` or origins such as https://app.example.com (scheme and host, no path)',
      }),
    ),
  ),
});
export type ProducerConfig = z.infer<typeof ProducerEnv>;

export function loadProducerConfig(env: Env = process.env): ProducerConfig {
  return loadConfig(ProducerEnv, env);
}
