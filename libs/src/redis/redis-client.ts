import { Redis } from 'ioredis';

export interface RedisClientOptions {
  /**
   * Commands issued in the same turn of the event loop go out in one write (ioredis auto-pipelining): under concurrent
   * requests, one round trip carries many. Not for a connection that subscribes. @defaultValue false
   */
  pipelineConcurrentCommands?: boolean;
}

export function connectRedis(url: string, options: RedisClientOptions = {}): Redis {
  return new Redis(url, {
    enableAutoPipelining: options.pipelineConcurrentCommands ?? false,
    // Commands fail fast while Redis is away instead of queueing without bound; reads fall back to MongoDB.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}
