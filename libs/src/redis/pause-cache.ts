import type { Redis } from 'ioredis';
import type { LogPosition } from '../mongo/collections';
import type { PauseScope } from '../pauses/pause-scope';

/** A scope's state as of an event at `position` of the pause topic. */
export interface PositionedPauseScope {
  scope: PauseScope;
  position: LogPosition;
}

/**
 * A tenant's pause scopes, for reading them right after the producer changed one, before the persister has folded the
 * change into MongoDB. Each entry carries the position of the event it reflects and is replaced only by a later one
 * (in the same partition; a tenant's events share one), whoever writes it: the producer after publishing, the persister
 * after folding. At the same position the persister's, folded from the log in order, replaces the producer's.
 */
export interface PauseCache {
  putNewer(entries: readonly PositionedPauseScope[], options?: { replaceSamePosition?: boolean }): Promise<void>;
  /** Every cached scope of the tenant. */
  get(tenantId: string): Promise<PositionedPauseScope[]>;
  evict(tenantIds: readonly string[]): Promise<void>;
}

// KEYS[1] the tenant's hash; ARGV: scope field, partition, offset, scope JSON, ttl seconds, '1' to replace at the same
// position. Per scope the hash holds p<field> (partition), o<field> (offset) and s<field> (the scope).
const PUT_IF_NEWER = `
local f = ARGV[1]
local p = redis.call('HGET', KEYS[1], 'p' .. f)
local o = redis.call('HGET', KEYS[1], 'o' .. f)
if p and o and tonumber(p) == tonumber(ARGV[2]) then
  local current, next = tonumber(o), tonumber(ARGV[3])
  if current > next or (current == next and ARGV[6] ~= '1') then return 0 end
end
redis.call('HSET', KEYS[1], 'p' .. f, ARGV[2], 'o' .. f, ARGV[3], 's' .. f, ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
`;
const PUT_IF_NEWER_COMMAND = 'joblinePutPauseIfNewer';

type PutIfNewer = (
  key: string,
  field: string,
  partition: number,
  offset: number,
  scope: string,
  ttl: number,
  replaceSame: string,
) => Promise<number>;

export function createPauseCache(redis: Redis, options: { keyPrefix: string; ttlSeconds: number }): PauseCache {
  const key = (tenantId: string) => `${options.keyPrefix}pauses:${tenantId}`;
  // The job type as JSON: `null` for the tenant as a whole, which no job type's name can be.
  const field = (scope: PauseScope) => JSON.stringify(scope.jobType);
  if (!(PUT_IF_NEWER_COMMAND in redis)) {
    redis.defineCommand(PUT_IF_NEWER_COMMAND, { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }
  const command = (target: object) => (target as Record<string, PutIfNewer>)[PUT_IF_NEWER_COMMAND]!.bind(target);
  return {
    async putNewer(entries, { replaceSamePosition = false } = {}) {
      if (entries.length === 0) return;
      const pipeline = redis.pipeline();
      const put = command(pipeline);
      for (const { scope, position } of entries) {
        void put(
          key(scope.tenantId),
          field(scope),
          position.partition,
          position.offset,
          JSON.stringify(scope),
          options.ttlSeconds,
          replaceSamePosition ? '1' : '0',
        );
      }
      const results = await pipeline.exec();
      const failed = results?.find(([err]) => err);
      if (failed) throw failed[0];
    },
    async get(tenantId) {
      const hash = await redis.hgetall(key(tenantId));
      const entries: PositionedPauseScope[] = [];
      for (const [name, value] of Object.entries(hash)) {
        if (!name.startsWith('s')) continue;
        const f = name.slice(1);
        const partition = hash[`p${f}`];
        const offset = hash[`o${f}`];
        if (partition === undefined || offset === undefined) continue;
        const scope = JSON.parse(value) as PauseScope;
        if (scope.tenantId !== tenantId) continue;
        entries.push({ scope, position: { partition: Number(partition), offset: Number(offset) } });
      }
      return entries;
    },
    async evict(tenantIds) {
      if (tenantIds.length > 0) await redis.del(...tenantIds.map(key));
    },
  };
}
