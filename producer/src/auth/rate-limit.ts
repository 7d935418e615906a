import type { RequestHandler } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { JoblineError, type Logger } from '@jobline/libs';
import type { RateLimit } from './tokens';

export interface RateLimitOptions {
  redis: Redis;
  keyPrefix: string;
  /** The limit of tokens without their own. */
  defaultLimit: RateLimit;
  logger: Logger;
}

/**
 * Counts each token's requests in Redis (fixed windows), so every producer instance shares one budget per token.
 * Answers 429 past the limit, with the IETF draft `RateLimit-*` headers on every response it counts. When Redis
 * cannot answer, requests pass (fail open) with a warning: an outage of the limiter must not become an outage of
 * the API.
 */
export function rateLimit(options: RateLimitOptions): RequestHandler {
  const limiters = new Map<string, RateLimiterRedis>();
  const limiterFor = (limit: RateLimit) => {
    const id = `${limit.points}-${limit.windowSeconds}`;
    let limiter = limiters.get(id);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: options.redis,
        // The limit is part of the key, so a changed limit starts a fresh count instead of inheriting another's.
        keyPrefix: `${options.keyPrefix}ratelimit:${id}`,
        points: limit.points,
        duration: limit.windowSeconds,
        rejectIfRedisNotReady: true,
      });
      limiters.set(id, limiter);
    }
    return limiter;
  };

  return async (req, res, next) => {
    const principal = req.principal;
    if (!principal) {
      next();
      return;
    }
    const limit = principal.rateLimit ?? options.defaultLimit;
    const setHeaders = (result: RateLimiterRes) => {
      res.set({
        'RateLimit-Limit': String(limit.points),
        'RateLimit-Remaining': String(Math.max(0, result.remainingPoints)),
        'RateLimit-Reset': String(Math.max(1, Math.ceil(result.msBeforeNext / 1000))),
      });
    };
    try {
      setHeaders(await limiterFor(limit).consume(principal.tokenId));
      next();
    } catch (err) {
      if (err instanceof RateLimiterRes) {
        setHeaders(err);
        res.set('Retry-After', res.get('RateLimit-Reset'));
        next(
          new JoblineError(
            'RATE_LIMITED',
            `more than ${limit.points} requests in ${limit.windowSeconds} s; retry after ${res.get('Retry-After')} s`,
          ),
        );
        return;
      }
      options.logger.warn('rate limit not applied: Redis did not answer', {
        tokenId: principal.tokenId,
        err: err instanceof Error ? err.message : String(err),
      });
      next();
    }
  };
}
