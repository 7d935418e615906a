import { z } from 'zod';
import { InfraEnv, envInt, loadConfig, type Env } from '@jobline/libs';

export const ConsumerEnv = InfraEnv.extend({
  /** Kafka consumer group of the persisters. @defaultValue `persister` */
  PERSISTER_GROUP_ID: z.string().min(1).default('persister'),
  /** Longest a persister fetch waits for more events before it writes what it has: batch size against lag. @defaultValue 50 */
  PERSISTER_FETCH_WAIT_MS: envInt(50, 0, 5000),
  /** Port of `/metrics`, `/health` and `/ready`; 0 disables. @defaultValue 9101 */
  METRICS_PORT: envInt(9101, 0, 65535),
  /** Attempts to deliver a job's callback before it is given up. @defaultValue 8 */
  CALLBACK_MAX_ATTEMPTS: envInt(8, 1, 50),
  /** Longest one callback request may take. @defaultValue 10000 */
  CALLBACK_TIMEOUT_MS: envInt(10_000, 100, 120_000),
  /** SMTP server for `notify.email` mails, e.g. `smtp://user:pass@mail.example.com:587`; empty: mails fail. @defaultValue empty */
  SMTP_URL: z
    .string()
    .regex(/^(smtps?:\/\/.+)?$/, 'expected smtp://host:port or smtps://host:port')
    .default(''),
  /** The From header of job mails. @defaultValue `jobline <jobline@localhost>` */
  MAIL_FROM: z.string().min(3).default('jobline <jobline@localhost>'),
  /** How long the download link in an export's mail stays valid, in seconds. @defaultValue 604800 (7 days) */
  MAIL_LINK_TTL_SECONDS: envInt(7 * 86_400, 60, 30 * 86_400),
  /** Where clients reach the API, for the links in job mails. @defaultValue `http://localhost:3000` */
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).default('http://localhost:3000'),
  /** Callback requests in flight at once per consumer process. @defaultValue 8 */
  CALLBACK_CONCURRENCY: envInt(8, 1, 256),
});
export type ConsumerConfig = z.infer<typeof ConsumerEnv>;

export function loadConsumerConfig(env: Env = process.env): ConsumerConfig {
  return loadConfig(ConsumerEnv, env);
}
