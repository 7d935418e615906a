import type { Redis } from 'ioredis';

/**
 * How a cancellation reaches the runner that is running the job, now: the producer publishes the job id on a Redis
 * channel after `JobCancelRequested` is in Kafka, and every runner aborts the attempt if it holds it. The event in the
 * log is the record; the channel is only the fast path (a runner that misses it lets the attempt finish).
 */
export function cancellationChannel(keyPrefix: string): string {
  return `${keyPrefix}cancellations`;
}

export async function announceCancellation(redis: Redis, keyPrefix: string, jobId: string): Promise<void> {
  await redis.publish(cancellationChannel(keyPrefix), jobId);
}

/** Listens on a dedicated connection (a subscribed Redis connection can do nothing else). */
export async function listenForCancellations(
  subscriber: Redis,
  keyPrefix: string,
  onCancel: (jobId: string) => void,
): Promise<() => Promise<void>> {
  const channel = cancellationChannel(keyPrefix);
  subscriber.on('message', (from: string, jobId: string) => {
    if (from === channel) onCancel(jobId);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
