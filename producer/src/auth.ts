import type { RequestHandler } from 'express';
import { JoblineError } from '@jobline/libs';

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

declare module 'express-serve-static-core' {
  interface Request {
    tenantId?: string;
  }
}

/** Accepts `Authorization: Bearer <token>` and `Authorization: Token <token>`; the token decides the tenant. */
export function authenticate(tokens: ReadonlyMap<string, string>): RequestHandler {
  return (req, _res, next) => {
    const match = SCHEME.exec(req.get('authorization') ?? '');
    const tenantId = match ? tokens.get(match[1]!) : undefined;
    if (!tenantId) {
      next(new JoblineError('UNAUTHORIZED', 'a valid API token is required: Authorization: Bearer <token>'));
      return;
    }
    req.tenantId = tenantId;
    next();
  };
}

export function tenantOf(req: { tenantId?: string }): string {
  if (!req.tenantId) throw new JoblineError('UNAUTHORIZED', 'request is not authenticated');
  return req.tenantId;
}
