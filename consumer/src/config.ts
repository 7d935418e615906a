import { z } from 'zod';
import { InfraEnv, loadConfig, type Env } from '@jobline/libs';

export const ConsumerEnv = InfraEnv.extend({
  /** Kafka consumer group of the persisters. @defaultValue `persister` */
  PERSISTER_GROUP_ID: z.string().min(1).default('persister'),
});
export type ConsumerConfig = z.infer<typeof ConsumerEnv>;

export function loadConsumerConfig(env: Env = process.env): ConsumerConfig {
  return loadConfig(ConsumerEnv, env);
}
