import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { JoblineError } from '@jobline/libs';

/** What a tenant's idempotency key stands for: the request it came with, and the jobs that request created. */
interface Claim {
  requestHash: string;
  jobIds: string[];
}

/** Claims written before batches existed name one `jobId`; they are read for as long as they live. */
type StoredClaim = Claim | { requestHash: string; jobId: string };

export type IdempotencyOutcome =
  /** First use of the key: create the jobs under `jobIds`; call `release` if they could not be published. */
  | { kind: 'new'; release: () => Promise<void> }
  /** The same request again: answer with the jobs it created, in its order. */
  | { kind: 'replay'; jobIds: string[] };

export interface IdempotencyStore {
  /** Claims `key` for the request, and for the jobs it creates: one job, or a batch's in request order. */
  claim(tenantId: string, key: string, requestHash: string, jobIds: readonly string[]): Promise<IdempotencyOutcome>;
}

/** A stable hash of a request body: key order does not matter. */
export function hashRequest(body: unknown): string {
  return createHash('sha256').update(canonicalJson(body)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

// KEYS[1] the claim; ARGV[1] our claim JSON. Deletes the claim only if it is still ours.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * Idempotency keys in Redis, per tenant, for `ttlSeconds`. A key is claimed with SET NX before the job is published,
 * so that concurrent duplicates agree on the job ids: the first claims the key, the others replay its jobs. A claim
 * whose publish failed is released, so that the client's retry can create the jobs.
 */
export function createIdempotencyStore(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }) {
  const keyOf = (tenantId: string, key: string) =>
    `${options.keyPrefix}idempotency:${tenantId}:${createHash('sha256').update(key).digest('hex')}`;

  const store: IdempotencyStore = {
    async claim(tenantId, key, requestHash, jobIds) {
      const redisKey = keyOf(tenantId, key);
      const ours = JSON.stringify({ requestHash, jobIds: [...jobIds] } satisfies Claim);
      let claimed: string | null;
      let existing: string | null;
      try {
        claimed = await redis.set(redisKey, ours, 'EX', options.ttlSeconds, 'NX');
        existing = claimed ? null : await redis.get(redisKey);
      } catch (err) {
        throw new JoblineError('DEPENDENCY_UNAVAILABLE', 'idempotency keys are unavailable; retry later', {
          retryable: true,
          cause: err,
        });
      }
      if (claimed) {
        return { kind: 'new', release: () => redis.eval(RELEASE, 1, redisKey, ours).then(() => undefined) };
      }
      if (existing === null) return store.claim(tenantId, key, requestHash, jobIds); // expired in between
      const claim = JSON.parse(existing) as StoredClaim;
      if (claim.requestHash !== requestHash) {
        throw new JoblineError(
          'IDEMPOTENCY_KEY_REUSED',
          'this Idempotency-Key was used with a different request; use a new key for a new job',
        );
      }
      return { kind: 'replay', jobIds: 'jobIds' in claim ? claim.jobIds : [claim.jobId] };
    },
  };
  return store;
}
