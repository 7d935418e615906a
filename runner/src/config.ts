import { hostname } from 'node:os';
import { z } from 'zod';
import { InfraEnv, JOB_TYPES, envInt, envList, isJobType, loadConfig, type Env } from '@jobline/libs';

export const RunnerEnv = InfraEnv.extend({
  /** Kafka consumer group of the runners. @defaultValue `runner` */
  RUNNER_GROUP_ID: z.string().min(1).default('runner'),
  /** Jobs one runner process executes at the same time. @defaultValue 16 */
  RUNNER_CONCURRENCY: envInt(16, 1, 10_000),
  /**
   * Per-type limits below the global one, as `type=n` pairs, comma-separated (e.g. `sleep=2`): at most n jobs of that
   * type run at once in this process. Types not named share only the global limit. @defaultValue none
   */
  RUNNER_TYPE_CONCURRENCY: envList('').pipe(
    z
      .array(
        z
          .string()
          .regex(/^[^=\s]+=\d+$/, 'expected type=n pairs')
          .transform((pair) => {
            const [type, n] = pair.split('=') as [string, string];
            return [type, Number(n)] as const;
          }),
      )
      .superRefine((pairs, ctx) => {
        for (const [type, n] of pairs) {
          if (!isJobType(type))
            ctx.addIssue({ code: 'custom', message: `unknown job type ${type} (known: ${JOB_TYPES.join(', ')})` });
          if (n < 1) ctx.addIssue({ code: 'custom', message: `the limit of ${type} must be at least 1` });
        }
        const types = pairs.map(([type]) => type);
        const twice = types.filter((type, i) => types.indexOf(type) !== i);
        if (twice.length > 0) ctx.addIssue({ code: 'custom', message: `${twice.join(', ')} named twice` });
      })
      .transform((pairs) => Object.fromEntries(pairs) as Record<string, number>),
  ),
  /**
   * On SIGTERM, how long running jobs may take to finish before they are aborted and left to run again elsewhere.
   * @defaultValue 10000
   */
  RUNNER_SHUTDOWN_GRACE_MS: envInt(10_000, 0, 3_600_000),
  /** Name of this runner in `JobStarted` events. @defaultValue `<hostname>-<pid>` */
  RUNNER_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  /** Port of `/metrics`, `/health` and `/ready`; 0 disables. @defaultValue 9102 */
  METRICS_PORT: envInt(9102, 0, 65535),
});
export type RunnerConfig = z.infer<typeof RunnerEnv>;

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return loadConfig(RunnerEnv, env);
}
