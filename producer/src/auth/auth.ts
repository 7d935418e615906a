import type { RequestHandler } from 'express';
import { JoblineError } from '@jobline/libs';
import { hashToken, type RateLimit, type TokenStore } from './tokens';

/** Parses `token:tenant,token:tenant`. */
export function parseApiTokens(value: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const separator = entry.lastIndexOf(':');
    const token = entry.slice(0, separator).trim();
    const tenant = entry.slice(separator + 1).trim();
    if (separator <= 0 || !token || !tenant) throw new Error(`expected token:tenant, got "${entry}"`);
    tokens.set(token, tenant);
  }
  if (tokens.size === 0) throw new Error('at least one token:tenant pair is required');
  return tokens;
}

const SCHEME = /^(?:Bearer|Token)\s+(\S+)$/i;

/** Who a token speaks for, and the limit its requests count against. */
export interface Principal {
  tenantId: string;
  /** Names the token in rate-limit keys and logs; never the token itself. */
  tokenId: string;
  /** The token's own limit; null for the configured default. */
  rateLimit: RateLimit | null;
}

/** Finds the principal of a token that is not in API_TOKENS; undefined for an unknown or revoked token. */
export type TokenLookup = (token: string) => Promise<Principal | undefined>;

declare module 'express-serve-static-core' {
  interface Request {
    tenantId?: string;
    principal?: Principal;
  }
}

export interface CachedLookupOptions {
  /** How long an answer, found or not, is reused: a revoked token keeps working for up to this long. @defaultValue 30000 */
  ttlMs?: number;
  /** Most answers kept; the oldest go first. @defaultValue 10000 */
  maxEntries?: number;
  now?: () => number;
}

/** Looks tokens up in the store, remembering each answer briefly so that a request costs no database round trip. */
export function cachedTokenLookup(store: Pick<TokenStore, 'find'>, options: CachedLookupOptions = {}): TokenLookup {
  const { ttlMs = 30_000, maxEntries = 10_000, now = Date.now } = options;
  // Keyed by the token's hash, so the process keeps no token it was not configured with.
  const cache = new Map<string, { principal: Principal | undefined; expiresAt: number }>();
  return async (token) => {
    const key = hashToken(token);
    const cached = cache.get(key);
    if (cached && cached.expiresAt > now()) return cached.principal;
    const found = await store.find(token);
    const principal = found && { tenantId: found.tenantId, tokenId: found.id, rateLimit: found.rateLimit };
    cache.delete(key);
    cache.set(key, { principal, expiresAt: now() + ttlMs });
    if (cache.size > maxEntries) cache.delete(cache.keys().next().value!);
    return principal;
  };
}

/**
 * Accepts `Authorization: Bearer <token>` and `Authorization: Token <token>`; the token decides the tenant. Tokens in
 * API_TOKENS are checked first, then the `api_tokens` collection through `lookup`.
 */
export function authenticate(tokens: ReadonlyMap<string, string>, lookup?: TokenLookup): RequestHandler {
  const configured = new Map(
    [...tokens].map(([token, tenantId]) => [
      token,
      { tenantId, tokenId: `env:${hashToken(token).slice(0, 16)}`, rateLimit: null } as Principal,
    ]),
  );
  return async (req, _res, next) => {
    const match = SCHEME.exec(req.get('authorization') ?? '');
    let principal = match ? configured.get(match[1]!) : undefined;
    if (match && !principal && lookup) {
      try {
        principal = await lookup(match[1]!);
      } catch (err) {
        next(new JoblineError('DEPENDENCY_UNAVAILABLE', 'the token could not be checked', { cause: err }));
        return;
      }
    }
    if (!principal) {
      next(new JoblineError('UNAUTHORIZED', 'a valid API token is required: Authorization: Bearer <token>'));
      return;
    }
    req.tenantId = principal.tenantId;
    req.principal = principal;
    next();
  };
}

export function tenantOf(req: { tenantId?: string }): string {
  if (!req.tenantId) throw new JoblineError('UNAUTHORIZED', 'request is not authenticated');
  return req.tenantId;
}
