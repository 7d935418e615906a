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
  RUNNER_TYPE_CONCURRENCY: limitPairs('type', (type) =>
    isJobType(type) ? null : `unknown job type ${type} (known: ${JOB_TYPES.join(', ')})`,
  ),
  /**
   * Jobs of one tenant running at once in this process, unless `RUNNER_TENANT_LIMITS` or `npm run tenants` gives the
   * tenant its own limit. Whatever the limit, a freed slot goes to the tenant with the fewest jobs running.
   * @defaultValue `RUNNER_CONCURRENCY` (no cap)
   */
  RUNNER_TENANT_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).optional(),
  /**
   * Limits of some tenants, as `tenant=n` pairs, comma-separated (e.g. `acme=4,batch=1`); a limit set with
   * `npm run tenants` goes over the tenant's pair. @defaultValue none
   */
  RUNNER_TENANT_LIMITS: limitPairs('tenant', () => null),
  /**
   * How often a runner reads the `tenant_limits` collection (`npm run tenants`), whose limits go over
   * `RUNNER_TENANT_LIMITS`; it reads it once before it starts any job. @defaultValue 10000
   */
  RUNNER_TENANT_LIMITS_REFRESH_MS: envInt(10_000, 100, 3_600_000),
  /**
   * Jobs one runner holds at once, running or waiting for a slot or their time; past it, it stops reading until some
   * finish. It reads this far past a backlog to find higher-priority jobs and other tenants' jobs behind it.
   * @defaultValue 100000
   */
  RUNNER_MAX_PENDING: envInt(100_000, 100, 10_000_000),
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

/** `name=n` pairs, comma-separated, each name once and n at least 1; `check` returns what is wrong with a name. */
function limitPairs(what: string, check: (name: string) => string | null) {
  return envList('').pipe(
    z
      .array(
        z
          .string()
          .regex(/^[^=\s]+=\d+$/, `expected ${what}=n pairs`)
          .transform((pair) => {
            const [name, n] = pair.split('=') as [string, string];
            return [name, Number(n)] as const;
          }),
      )
      .superRefine((pairs, ctx) => {
        for (const [name, n] of pairs) {
          const problem = check(name);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
          if (n < 1) ctx.addIssue({ code: 'custom', message: `the limit of ${name} must be at least 1` });
        }
        const names = pairs.map(([name]) => name);
        const twice = names.filter((name, i) => names.indexOf(name) !== i);
        if (twice.length > 0) ctx.addIssue({ code: 'custom', message: `${twice.join(', ')} named twice` });
      })
      .transform((pairs) => Object.fromEntries(pairs) as Record<string, number>),
  );
}

export function loadRunnerConfig(env: Env = process.env): RunnerConfig {
  return loadConfig(RunnerEnv, env);
}
