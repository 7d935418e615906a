import { hostname } from 'node:os';
import { z } from 'zod';
import { InfraEnv, envInt, loadConfig, type Env } from '@jobline/libs';

export const RunnerEnv = InfraEnv.extend({
  /** Kafka consumer group of the runners. @defaultValue `runner` */
  RUNNER_GROUP_ID: z.string().min(1).default('runner'),
  /** Jobs one runner process executes at the same time. @defaultValue 16 */
  RUNNER_CONCURRENCY: envInt(16, 1, 10_000),
  /** Name of this runner in `JobStarted` events. @defaultValue `<hostname>-<pid>` */
  RUNNER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
});
export type RunnerConfig = z.infer<typeof RunnerEnv>;

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return loadConfig(RunnerEnv, env);
}
