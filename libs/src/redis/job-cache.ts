import type { Redis } from 'ioredis';
import type { JobView } from '../jobs/job-view';

export interface CachedJob {
  tenantId: string;
  view: JobView;
}

/** The hot read path: job views by id. */
export interface JobCache {
  /** Caches a view only if none is cached yet (the producer's first write must never hide a fresher one). */
  putIfAbsent(job: CachedJob): Promise<void>;
  /** Caches views, each only if its version (the log offset it reflects) is newer than the cached one's. */
  putNewer(jobs: readonly (CachedJob & { version: number })[]): Promise<void>;
  /**
   * Caches a view the producer derived (a job's state after a command it published) in place of its own earlier one,
   * unless the persister has cached a view already; false then.
   */
  putUnlessPersisted(job: CachedJob): Promise<boolean>;
  /** Drops cached views, so that reads go to MongoDB. */
  evict(jobIds: readonly string[]): Promise<void>;
  /** The cached view, or null when it is missing or belongs to another tenant. */
  get(tenantId: string, jobId: string): Promise<JobView | null>;
}

// KEYS[1] job key; ARGV: version, tenantId, view JSON, ttl seconds. -1 as version means "only if absent".
const PUT_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'view', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`;

/** The script's name on a Redis client: it is sent once per connection and called by its SHA1 after that. */
const PUT_IF_NEWER_COMMAND = 'joblinePutJobIfNewer';

// KEYS[1] job key; ARGV: tenantId, view JSON, ttl seconds. The producer's views have version -1, the persister's the
// log offset they reflect (0 or more).
const PUT_UNLESS_PERSISTED = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= 0 then return 0 end
redis.call('HSET', KEYS[1], 'v', -1, 't', ARGV[1], 'view', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`;
const PUT_UNLESS_PERSISTED_COMMAND = 'joblinePutJobUnlessPersisted';

type PutIfNewer = (key: string, version: number, tenantId: string, view: string, ttl: number) => Promise<number>;
type PutUnlessPersisted = (key: string, tenantId: string, view: string, ttl: number) => Promise<number>;

export function createJobCache(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }): JobCache {
  const key = (jobId: string) => `${options.keyPrefix}job:${jobId}`;
  if (!(PUT_IF_NEWER_COMMAND in redis))
    redis.defineCommand(PUT_IF_NEWER_COMMAND, { numberOfKeys: 1, lua: PUT_IF_NEWER });
  if (!(PUT_UNLESS_PERSISTED_COMMAND in redis))
    redis.defineCommand(PUT_UNLESS_PERSISTED_COMMAND, { numberOfKeys: 1, lua: PUT_UNLESS_PERSISTED });
  const command = (target: object) => (target as Record<string, PutIfNewer>)[PUT_IF_NEWER_COMMAND]!.bind(target);
  const put = (job: CachedJob, version: number) =>
    command(redis)(key(job.view.id), version, job.tenantId, JSON.stringify(job.view), options.ttlSeconds);

  return {
    async putIfAbsent(job) {
      await put(job, -1);
    },
    async putNewer(jobs) {
      if (jobs.length === 0) return;
      const pipeline = redis.pipeline();
      const putInPipeline = command(pipeline);
      for (const job of jobs) {
        void putInPipeline(key(job.view.id), job.version, job.tenantId, JSON.stringify(job.view), options.ttlSeconds);
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
    async putUnlessPersisted(job) {
      const putUnlessPersisted = (redis as unknown as Record<string, PutUnlessPersisted>)[
        PUT_UNLESS_PERSISTED_COMMAND
      ]!;
      const written = await putUnlessPersisted.call(
        redis,
        key(job.view.id),
        job.tenantId,
        JSON.stringify(job.view),
        options.ttlSeconds,
      );
      return written === 1;
    },
    async evict(jobIds) {
      if (jobIds.length > 0) await redis.del(...jobIds.map(key));
    },
    async get(tenantId, jobId) {
      const [tenant, view] = await redis.hmget(key(jobId), 't', 'view');
      if (tenant !== tenantId || !view) return null;
      return JSON.parse(view) as JobView;
    },
  };
}
