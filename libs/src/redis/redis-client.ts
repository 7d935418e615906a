import { Redis } from 'ioredis';

export function connectRedis(url: string): Redis {
  return new Redis(url, {
    // Commands fail fast while Redis is away instead of queueing without bound; reads fall back to MongoDB.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
