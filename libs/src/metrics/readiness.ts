import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Db } from 'mongodb';

/** Named probes of a service's dependencies; each resolves when its dependency answers. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export type ReadinessCheckResult = { status: 'up'; ms: number } | { status: 'down'; error: string };

export interface ReadinessResult {
  status: 'ready' | 'unavailable';
  checks: Record<string, ReadinessCheckResult>;
}

/** Runs every probe at once, each bounded by `timeoutMs`; ready only when all are up. */
export async function runReadinessChecks(checks: ReadinessChecks, timeoutMs = 2000): Promise<ReadinessResult> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, ReadinessCheckResult]> => {
      const started = Date.now();
      try {
        await withTimeout(check(), timeoutMs);
        return [name, { status: 'up', ms: Date.now() - started }];
      } catch (err) {
        return [name, { status: 'down', error: (err as Error).message }];
      }
    }),
  );
  const ready = entries.every(([, result]) => result.status === 'up');
  return { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(entries) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The probes of a service that uses all three: Kafka answers metadata of the event topic, MongoDB and Redis a ping. */
export function infraReadiness(deps: { admin: Admin; topic: string; db: Db; redis: Redis }): ReadinessChecks {
  return {
    kafka: () => deps.admin.fetchTopicMetadata({ topics: [deps.topic] }),
    mongodb: () => deps.db.command({ ping: 1 }),
    redis: () => deps.redis.ping(),
  };
}
