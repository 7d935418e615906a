import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { JoblineError, type JobEventOf, type ScheduleEventOf } from '@jobline/libs';

type JobRequested = JobEventOf<'JobRequested'>;
type ScheduleCreated = ScheduleEventOf<'ScheduleCreated'>;

/**
 * What a tenant's idempotency key stands for, from the moment it is claimed: the request it came with, and the events
 * of what that request creates, ids included, whether or not Kafka took them yet: the `JobRequested` events of its
 * jobs, or the `ScheduleCreated` of its schedule. A tenant's keys are shared by every endpoint that creates.
 */
interface Claim {
  requestHash: string;
  jobIds: string[];
  events: JobRequested[];
}

interface ScheduleClaim {
  requestHash: string;
  scheduleId: string;
  event: ScheduleCreated;
}

/** Claims written before claims held their events name their jobs only; they are read for as long as they live. */
type JobsClaim = Claim | { requestHash: string; jobIds: string[] } | { requestHash: string; jobId: string };
type StoredClaim = JobsClaim | ScheduleClaim;

export type IdempotencyOutcome =
  /** First use of the key: publish the events it was claimed with. */
  | { kind: 'new' }
  /**
   * The same request again: answer with the jobs the key stands for, in request order. `events` are their
   * `JobRequested` events as first built (null for a claim that did not keep them): whoever finds a job missing
   * publishes them again, with the same ids.
   */
  | { kind: 'replay'; jobIds: string[]; events: JobRequested[] | null };

export type ScheduleIdempotencyOutcome =
  /** First use of the key: publish the event it was claimed with. */
  | { kind: 'new' }
  /**
   * The same request again: answer with the schedule the key stands for. `event` is its `ScheduleCreated` as first
   * built: whoever finds the schedule missing publishes it again, with the same ids.
   */
  | { kind: 'replay'; event: ScheduleCreated };

export interface IdempotencyStore {
  /** Claims `key` for the request and for the jobs its events create: one job, or a batch's in request order. */
  claim(
    tenantId: string,
    key: string,
    requestHash: string,
    events: readonly JobRequested[],
  ): Promise<IdempotencyOutcome>;
  /** Claims `key` for the request and for the schedule its `ScheduleCreated` creates. */
  claimSchedule(
    tenantId: string,
    key: string,
    requestHash: string,
    event: ScheduleCreated,
  ): Promise<ScheduleIdempotencyOutcome>;
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

/**
 * Idempotency keys in Redis, per tenant, for `ttlSeconds`. A key is claimed with SET NX before its jobs are published,
 * and the claim is never released: a request that failed, or a producer that died, between the claim and Kafka's
 * acknowledgement leaves jobs whose publishing may or may not have happened. Either way the retry stands for the same
 * jobs, and publishing their events again is harmless, since every consumer of the log applies a job's `JobRequested`
 * only once (the persister by event id and state, the runner by the attempt it already started). The same holds for a
 * schedule: `evolveSchedule`, which the persister and the runners fold with, applies `ScheduleCreated` only to a
 * schedule it does not know. A key claimed for jobs is refused to a schedule, and the other way round.
 */
export function createIdempotencyStore(
  redis: Redis,
  options: { keyPrefix: string; ttlSeconds: number },
): IdempotencyStore {
  const keyOf = (tenantId: string, key: string) =>
    `${options.keyPrefix}idempotency:${tenantId}:${createHash('sha256').update(key).digest('hex')}`;

  /** Claims the key for `ours`; null if it was free, else what it was claimed for, by the same request and kind. */
  async function claimFor(tenantId: string, key: string, ours: Claim | ScheduleClaim): Promise<StoredClaim | null> {
    const redisKey = keyOf(tenantId, key);
    let claimed: string | null;
    let existing: string | null;
    try {
      claimed = await redis.set(redisKey, JSON.stringify(ours), 'EX', options.ttlSeconds, 'NX');
      existing = claimed ? null : await redis.get(redisKey);
    } catch (err) {
      throw new JoblineError('DEPENDENCY_UNAVAILABLE', 'idempotency keys are unavailable; retry later', {
        retryable: true,
        cause: err,
      });
    }
    if (claimed) return null;
    if (existing === null) return claimFor(tenantId, key, ours); // expired in between
    const claim = JSON.parse(existing) as StoredClaim;
    const [theirs, wanted] = [kindOf(claim), kindOf(ours)];
    if (theirs !== wanted) {
      throw new JoblineError(
        'IDEMPOTENCY_KEY_REUSED',
        `this Idempotency-Key was used for a ${theirs}, not a ${wanted}`,
      );
    }
    if (claim.requestHash !== ours.requestHash) {
      throw new JoblineError(
        'IDEMPOTENCY_KEY_REUSED',
        `this Idempotency-Key was used with a different request; use a new key for a new ${wanted}`,
      );
    }
    return claim;
  }

  return {
    async claim(tenantId, key, requestHash, events) {
      const ours = { requestHash, jobIds: events.map((e) => e.jobId), events: [...events] } satisfies Claim;
      const claim = (await claimFor(tenantId, key, ours)) as JobsClaim | null;
      if (claim === null) return { kind: 'new' };
      if ('events' in claim) return { kind: 'replay', jobIds: claim.jobIds, events: claim.events };
      return { kind: 'replay', jobIds: 'jobIds' in claim ? claim.jobIds : [claim.jobId], events: null };
    },
    async claimSchedule(tenantId, key, requestHash, event) {
      const ours = { requestHash, scheduleId: event.scheduleId, event } satisfies ScheduleClaim;
      const claim = (await claimFor(tenantId, key, ours)) as ScheduleClaim | null;
      return claim === null ? { kind: 'new' } : { kind: 'replay', event: claim.event };
    },
  };
}

const kindOf = (claim: StoredClaim) => ('scheduleId' in claim ? 'schedule' : 'job');
