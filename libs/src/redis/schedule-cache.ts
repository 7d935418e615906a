import type { Redis } from 'ioredis';
import type { Schedule } from '../schedules/schedule';

/**
 * Schedules by id, for reading a schedule right after the producer changed it, before the persister has folded the
 * change into MongoDB. Each entry carries the schedule's revision and is replaced only by a newer one, whoever writes
 * it (the producer after publishing, the persister after folding).
 */
export interface ScheduleCache {
  putNewer(schedules: readonly Schedule[]): Promise<void>;
  /** The cached schedule, or null when it is missing or belongs to another tenant. */
  get(tenantId: string, scheduleId: string): Promise<Schedule | null>;
  evict(scheduleIds: readonly string[]): Promise<void>;
}

// KEYS[1] schedule key; ARGV: revision, tenantId, schedule JSON, ttl seconds.
const PUT_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 'v')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'schedule', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
`;
const PUT_IF_NEWER_COMMAND = 'joblinePutScheduleIfNewer';

type PutIfNewer = (key: string, revision: number, tenantId: string, schedule: string, ttl: number) => Promise<number>;

export function createScheduleCache(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }): ScheduleCache {
  const key = (id: string) => `${options.keyPrefix}schedule:${id}`;
  if (!(PUT_IF_NEWER_COMMAND in redis)) {
    redis.defineCommand(PUT_IF_NEWER_COMMAND, { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }
  const command = (target: object) => (target as Record<string, PutIfNewer>)[PUT_IF_NEWER_COMMAND]!.bind(target);
  return {
    async putNewer(schedules) {
      if (schedules.length === 0) return;
      const pipeline = redis.pipeline();
      const put = command(pipeline);
      for (const s of schedules) void put(key(s.id), s.revision, s.tenantId, JSON.stringify(s), options.ttlSeconds);
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
    async get(tenantId, scheduleId) {
      const [tenant, schedule] = await redis.hmget(key(scheduleId), 't', 'schedule');
      if (tenant !== tenantId || !schedule) return null;
      return JSON.parse(schedule) as Schedule;
    },
    async evict(scheduleIds) {
      if (scheduleIds.length > 0) await redis.del(...scheduleIds.map(key));
    },
  };
}
