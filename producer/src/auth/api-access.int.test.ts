import { createHash } from 'node:crypto';
import { connectRedis, createLogger } from '@jobline/libs';
import { readJson, waitFor } from '@jobline/libs/testing';
import type { AppDeps } from '../app';
import { cachedTokenLookup } from './auth';
import { startTestApp, type TestApp } from '../testing/test-app';
import { apiTokensCollection, createTokenStore, ensureTokenIndexes, type TokenStore } from './tokens';

const logger = createLogger({ service: 'test', level: 'error' });

describe('tokens, rate limits and HTTP headers against Kafka, Redis and MongoDB', () => {
  let stack: TestApp;
  let store: TokenStore;

  beforeAll(async () => {
    stack = await startTestApp({ clientId: 'test-producer-access', logger });
    const apiTokens = apiTokensCollection(stack.mongo.db);
    await ensureTokenIndexes(apiTokens);
    store = createTokenStore(apiTokens);
  });

  afterAll(() => stack.close());

  const start = async (overrides: Partial<AppDeps> = {}): Promise<string> =>
    (
      await stack.start({
        tokens: new Map([['env-token', 'tenant-env']]),
        tokenLookup: cachedTokenLookup(store),
        ...overrides,
      })
    ).baseUrl;
  const list = (base: string, authorization?: string) =>
    fetch(`${base}/v1/jobs`, { headers: authorization ? { authorization } : {} });

  describe('tokens from the api_tokens collection', () => {
    it('authenticate with both header forms and carry their tenant', async () => {
      const base = await start();
      const { token } = await store.create({ tenantId: 'tenant-db', name: 'ci' });
      const created = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'noop' }),
      });
      expect(created.status).toBe(202);
      const job = await readJson(created);

      const own = await fetch(`${base}/v1/jobs/${job.id}`, { headers: { authorization: `Token ${token}` } });
      expect(own.status).toBe(200);
      expect(await readJson(own)).toMatchObject({ id: job.id });

      const { token: otherTenant } = await store.create({ tenantId: 'tenant-other' });
      const other = await fetch(`${base}/v1/jobs/${job.id}`, { headers: { authorization: `Bearer ${otherTenant}` } });
      expect(other.status).toBe(404);
      const envTenant = await fetch(`${base}/v1/jobs/${job.id}`, { headers: { authorization: 'Bearer env-token' } });
      expect(envTenant.status).toBe(404);
    });

    it('stop working once revoked, after the lookup cache expires', async () => {
      let clock = 1_000_000;
      const base = await start({ tokenLookup: cachedTokenLookup(store, { ttlMs: 30_000, now: () => clock }) });
      const { token, apiToken } = await store.create({ tenantId: 'tenant-revoked' });
      expect((await list(base, `Bearer ${token}`)).status).toBe(200);

      expect(await store.revoke(apiToken.id)).toBe(true);
      expect((await list(base, `Bearer ${token}`)).status).toBe(200);
      clock += 30_001;

      const refused = await list(base, `Bearer ${token}`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await readJson(refused)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
    });

    it('refuse missing and unknown tokens with 401 and WWW-Authenticate', async () => {
      const base = await start();
      for (const authorization of [undefined, 'Bearer jl_unknown', 'Basic abc']) {
        const res = await list(base, authorization);
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    });
  });

  describe('rate limits', () => {
    it('answer 429 with RateLimit headers past the limit and recover after the window', async () => {
      const base = await start({
        rateLimit: {
          redis: stack.redis,
          keyPrefix: stack.ns.redisPrefix,
          defaultLimit: { points: 3, windowSeconds: 1 },
          logger,
        },
      });
      const remaining: (string | null)[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await list(base, 'Bearer env-token');
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-limit')).toBe('3');
        expect(Number(res.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(1);
        remaining.push(res.headers.get('ratelimit-remaining'));
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const limited = await list(base, 'Bearer env-token');
      expect(limited.status).toBe(429);
      expect(limited.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await readJson(limited)).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(limited.headers.get('ratelimit-limit')).toBe('3');
      expect(limited.headers.get('ratelimit-remaining')).toBe('0');
      expect(limited.headers.get('ratelimit-reset')).toBe('1');
      expect(limited.headers.get('retry-after')).toBe('1');

      const recovered = await waitFor(
        async () => {
          const res = await list(base, 'Bearer env-token');
          return res.status === 200 && res;
        },
        { timeoutMs: 3000, intervalMs: 100, description: 'the next window' },
      );
      expect(recovered.headers.get('ratelimit-remaining')).toBe('2');
    });

    it('use a token’s own limit over the default, counted per token', async () => {
      const base = await start({
        rateLimit: {
          redis: stack.redis,
          keyPrefix: stack.ns.redisPrefix,
          defaultLimit: { points: 100, windowSeconds: 60 },
          logger,
        },
      });
      const { token } = await store.create({ tenantId: 'tenant-slow', rateLimit: { points: 1, windowSeconds: 60 } });
      const first = await list(base, `Bearer ${token}`);
      expect(first.status).toBe(200);
      expect(first.headers.get('ratelimit-limit')).toBe('1');
      const second = await list(base, `Token ${token}`);
      expect(second.status).toBe(429);
      expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(1);

      const { token: sameTenant } = await store.create({ tenantId: 'tenant-slow' });
      const other = await list(base, `Bearer ${sameTenant}`);
      expect(other.status).toBe(200);
      expect(other.headers.get('ratelimit-limit')).toBe('100');
    });

    it('let requests through when Redis does not answer', async () => {
      const absent = connectRedis('redis://127.0.0.1:1');
      const base = await start({
        rateLimit: {
          redis: absent,
          keyPrefix: stack.ns.redisPrefix,
          defaultLimit: { points: 1, windowSeconds: 60 },
          logger,
        },
      });
      for (let i = 0; i < 3; i++) {
        const res = await list(base, 'Bearer env-token');
        expect(res.status).toBe(200);
        expect(res.headers.get('ratelimit-limit')).toBeNull();
      }
      absent.disconnect();
    });
  });

  describe('headers', () => {
    it('sets helmet’s security headers on every response', async () => {
      const base = await start();
      for (const res of [await fetch(`${base}/health`), await list(base)]) {
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.headers.get('content-security-policy')).toContain("default-src 'self'");
        expect(res.headers.get('strict-transport-security')).toContain('max-age=');
      }
    });

    it('allows the Swagger UI page its inline script, and no other', async () => {
      const page = await fetch(`${await start()}/docs`);
      const inline = /<script>([\s\S]*?)<\/script>/.exec(await page.text())![1]!;
      const hash = createHash('sha256').update(inline).digest('base64');
      expect(page.headers.get('content-security-policy')).toContain(`script-src 'self' 'sha256-${hash}'`);
    });

    const preflight = (base: string, origin: string) =>
      fetch(`${base}/v1/jobs`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });

    it('answers CORS preflights only for configured origins', async () => {
      const base = await start({ corsOrigins: ['https://app.example.com'] });
      const allowed = await preflight(base, 'https://app.example.com');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');

      const denied = await preflight(base, 'https://evil.example.com');
      expect(denied.headers.get('access-control-allow-origin')).toBeNull();

      const simple = await fetch(`${base}/health`, { headers: { origin: 'https://app.example.com' } });
      expect(simple.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
      expect(simple.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining');
    });

    it('allows any origin with *, and sends no CORS headers when none is configured', async () => {
      const any = await preflight(await start({ corsOrigins: ['*'] }), 'https://anywhere.example');
      expect(any.status).toBe(204);
      expect(any.headers.get('access-control-allow-origin')).toBe('*');

      const none = await preflight(await start({ corsOrigins: [] }), 'https://app.example.com');
      // OPTIONS is answered as for any client, with the methods the path serves, and nothing a browser needs for CORS.
      expect(none.status).toBe(204);
      expect(none.headers.get('allow')).toContain('POST');
      expect([...none.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
    });
  });
});
