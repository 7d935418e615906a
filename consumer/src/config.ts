import { z } from 'zod';
import { InfraEnv, envInt, loadConfig, type Env } from '@jobline/libs';

export const ConsumerEnv = InfraEnv.extend({
  /** Kafka consumer group of the persisters. @defaultValue `persister` */
  PERSISTER_GROUP_ID: z.string().min(1).default('persister'),
  /** Port of `/metrics`, `/health` and `/ready`; 0 disables. @defaultValue 9101 */
  METRICS_PORT: envInt(9101, 0, 65535),
});
export type ConsumerConfig = z.infer<typeof ConsumerEnv>;

export function loadConsumerConfig(env: Env = process.env): ConsumerConfig {
  return loadConfig(ConsumerEnv, env);
}
