import { cachedTokenLookup } from './auth';
import { formatRate, parseRate, type ApiToken } from './tokens';

describe('parseRate', () => {
  it.each([
    ['10/s', { points: 10, windowSeconds: 1 }],
    ['600/min', { points: 600, windowSeconds: 60 }],
    ['30 / minute', { points: 30, windowSeconds: 60 }],
    ['600', { points: 600, windowSeconds: 60 }],
  ])('reads %s', (value, limit) => {
    expect(parseRate(value)).toEqual(limit);
    expect(parseRate(formatRate(limit))).toEqual(limit);
  });

  it.each(['', '0/s', '-1/s', '1.5/s', '10/h', 'fast'])('refuses %j', (value) => {
    expect(() => parseRate(value)).toThrow(/10\/s or 600\/min/);
  });
});

describe('cachedTokenLookup', () => {
  const token = (tenantId: string): ApiToken => ({
    id: `id-${tenantId}`,
    tenantId,
    name: null,
    createdAt: new Date(0),
    revokedAt: null,
    rateLimit: null,
  });

  it('asks the store once per token and TTL, remembering misses too', async () => {
    let clock = 0;
    const live = new Map([['secret', token('acme')]]);
    const asked: string[] = [];
    const lookup = cachedTokenLookup(
      {
        find: async (t) => {
          asked.push(t);
          return live.get(t);
        },
      },
      { ttlMs: 1000, now: () => clock },
    );
    expect(await lookup('secret')).toEqual({ tenantId: 'acme', tokenId: 'id-acme', rateLimit: null });
    expect(await lookup('unknown')).toBeUndefined();
    live.delete('secret');
    clock = 999;
    expect(await lookup('secret')).toMatchObject({ tenantId: 'acme' });
    expect(await lookup('unknown')).toBeUndefined();
    expect(asked).toEqual(['secret', 'unknown']);
    clock = 1000;
    expect(await lookup('secret')).toBeUndefined();
    expect(asked).toEqual(['secret', 'unknown', 'secret']);
  });

  it('forgets the oldest answers beyond maxEntries', async () => {
    const asked: string[] = [];
    const lookup = cachedTokenLookup(
      {
        find: async (t) => {
          asked.push(t);
          return token(t);
        },
      },
      { maxEntries: 2, now: () => 0 },
    );
    for (const t of ['a', 'b', 'c', 'b', 'a']) await lookup(t);
    expect(asked).toEqual(['a', 'b', 'c', 'a']);
  });
});
