import type { Redis } from 'ioredis';
import { z } from 'zod';
import { JobView } from '../jobs/job-view';
import type { Logger } from '../logging/logger';

/**
 * A job's view right after the persister applied one of its events: what live streams send. `offset` is that event's
 * position in its partition; all of a job's events share a partition, so a job's changes are ordered by offset.
 */
export const JobChange = z.object({
  tenantId: z.string(),
  partition: z.number().int(),
  offset: z.number().int(),
  view: JobView,
});
export type JobChange = z.infer<typeof JobChange>;

/**
 * Live job changes travel on one Redis channel per tenant. The persister publishes each change after the projection
 * and `job_events` hold it, so a listener that misses a message (a reconnect, a persister crash in between) can
 * always catch up from MongoDB; the channel is the fast path, never the record.
 */
export function jobChangesChannel(keyPrefix: string, tenantId: string): string {
  return `${keyPrefix}job-changes:${tenantId}`;
}

export async function publishJobChanges(redis: Redis, keyPrefix: string, changes: readonly JobChange[]) {
  if (changes.length === 0) return;
  const pipeline = redis.pipeline();
  for (const change of changes) pipeline.publish(jobChangesChannel(keyPrefix, change.tenantId), JSON.stringify(change));
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

export type JobChangeListener = (change: JobChange) => void;

/** Routes one process's subscription to the job streams open in it. */
export interface JobChangeHub {
  /** Calls `listener` with every change of the tenant's jobs (of `jobId` only, when given) until the returned stop. */
  watch(tenantId: string, listener: JobChangeListener, jobId?: string): Promise<() => void>;
  /** Listeners now registered, across tenants. */
  readonly size: number;
  close(): Promise<void>;
}

/**
 * Subscribes, on its own connection (a subscribed Redis connection can do nothing else), to the channels of the tenants
 * that have a listener in this process, and to no others: a producer serving no streams receives nothing.
 */
export function createJobChangeHub(subscriber: Redis, keyPrefix: string, logger: Logger): JobChangeHub {
  const prefix = jobChangesChannel(keyPrefix, '');
  const byTenant = new Map<string, Set<{ listener: JobChangeListener; jobId?: string }>>();
  let size = 0;

  subscriber.on('message', (channel: string, message: string) => {
    if (!channel.startsWith(prefix)) return;
    const watchers = byTenant.get(channel.slice(prefix.length));
    if (!watchers) return;
    let change: JobChange;
    try {
      change = JobChange.parse(JSON.parse(message));
    } catch (err) {
      logger.warn('ignoring an unreadable job change', { channel, err: (err as Error).message });
      return;
    }
    for (const { listener, jobId } of watchers) {
      if (jobId === undefined || jobId === change.view.id) listener(change);
    }
  });

  return {
    get size() {
      return size;
    },
    async watch(tenantId, listener, jobId) {
      const entry = { listener, jobId };
      let watchers = byTenant.get(tenantId);
      if (!watchers) {
        watchers = new Set();
        byTenant.set(tenantId, watchers);
      }
      watchers.add(entry);
      size++;
      const channel = jobChangesChannel(keyPrefix, tenantId);
      const stop = () => {
        if (!watchers.delete(entry)) return;
        size--;
        if (watchers.size === 0 && byTenant.get(tenantId) === watchers) {
          byTenant.delete(tenantId);
          subscriber.unsubscribe(channel).catch(() => undefined);
        }
      };
      try {
        // Subscribing an already subscribed channel is harmless and still waits for Redis to confirm.
        await subscriber.subscribe(channel);
      } catch (err) {
        stop();
        throw err;
      }
      return stop;
    },
    async close() {
      byTenant.clear();
      size = 0;
      await subscriber.quit().catch(() => undefined);
    },
  };
}
