import type { Logger } from '@jobline/libs';
import type { TenantLimit } from './tenant-limit-store';
import {
  describeTenantLimitChanges,
  isTenantConcurrency,
  MAX_TENANT_CONCURRENCY,
  mergeTenantLimits,
  tenantLimitChanges,
  type TenantLimits,
} from './tenant-limits';

export interface TenantLimitRefresherOptions {
  /** The `tenant_limits` collection's limits (`TenantLimitStore.list`). */
  read: () => Promise<TenantLimit[]>;
  /** `RUNNER_TENANT_LIMITS`, which the runner started with and which the collection's limits go over. */
  envLimits: TenantLimits;
  /** Gives the runner a new map of limits (`RunnerConsumer.setTenantLimits`). */
  apply: (limits: TenantLimits) => void;
  /** Time between the end of one read and the start of the next. */
  intervalMs: number;
  logger: Logger;
}

export interface TenantLimitRefresher {
  /**
   * Reads the collection and applies its limits, then reads again every interval. Resolves after the first read,
   * whether or not it succeeded: a runner that cannot read the collection runs with `RUNNER_TENANT_LIMITS`.
   */
  start(): Promise<void>;
  /**
   * Stops the timer. A read under way is not waited for (a MongoDB that hangs must not hold up a shutdown): it applies
   * and logs nothing when it ends.
   */
  stop(): void;
  /** The limits last applied (or those of the environment, before any). */
  readonly limits: TenantLimits;
}

/**
 * Keeps a runner's per-tenant limits in step with the `tenant_limits` collection. It calls `apply` only when
 * the merged limits change. A failed read keeps the limits in force and logs one warning per outage, not one per read,
 * and the timer is re-armed only once a read has ended, so a slow MongoDB never has two reads of one runner waiting.
 */
export function createTenantLimitRefresher(options: TenantLimitRefresherOptions): TenantLimitRefresher {
  const { read, envLimits, apply, intervalMs, logger } = options;
  let limits: TenantLimits = envLimits;
  let failing = false;
  let ignored = '';
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /** Documents written by hand may hold anything; those that are not a valid limit are left out, and said once. */
  const validLimits = (docs: TenantLimit[]): TenantLimits => {
    const isValid = (doc: TenantLimit) =>
      typeof doc.tenantId === 'string' && doc.tenantId !== '' && isTenantConcurrency(doc.concurrency);
    const valid = docs.filter(isValid);
    const described = docs
      .filter((doc) => !isValid(doc))
      .map((doc) => `${JSON.stringify(doc.tenantId)}: ${JSON.stringify(doc.concurrency)}`)
      .join(', ');
    if (described !== '' && described !== ignored) {
      logger.warn(`ignoring tenant limits that are not a whole number from 1 to ${MAX_TENANT_CONCURRENCY}`, {
        ignored: described,
      });
    }
    ignored = described;
    return Object.fromEntries(valid.map((doc) => [doc.tenantId, doc.concurrency]));
  };

  const refresh = async () => {
    let fromCollection: TenantLimits;
    try {
      fromCollection = validLimits(await read());
    } catch (err) {
      if (stopped) return;
      if (!failing) logger.warn('cannot read tenant_limits; keeping the tenant limits in force', { err });
      failing = true;
      return;
    }
    if (stopped) return;
    if (failing) logger.info('reading tenant_limits again');
    failing = false;
    const merged = mergeTenantLimits(envLimits, fromCollection);
    const changes = tenantLimitChanges(limits, merged);
    if (changes.length === 0) return;
    apply(merged);
    limits = merged;
    logger.info(`tenant limits changed: ${describeTenantLimitChanges(changes)}`, { changes });
  };

  const applyFailed = (err: unknown) => {
    logger.error('applying tenant limits failed', { err });
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void refresh().catch(applyFailed).finally(schedule);
    }, intervalMs);
    timer.unref();
  };

  return {
    async start() {
      await refresh().catch(applyFailed);
      schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    get limits() {
      return limits;
    },
  };
}
