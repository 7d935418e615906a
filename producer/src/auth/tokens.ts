import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';

/** A rate limit: at most `points` requests per `windowSeconds`. */
export interface RateLimit {
  points: number;
  windowSeconds: number;
}

/**
 * An API token as stored in `api_tokens`. Only the SHA-256 of the token is kept: the token is 32 random bytes, so a
 * plain hash is as good as a slow one, and a leaked collection gives no usable token.
 */
export interface ApiTokenDocument {
  _id: string;
  tokenHash: string;
  tenantId: string;
  name: string | null;
  createdAt: Date;
  revokedAt: Date | null;
  /** Overrides the producer's default limit when set. */
  rateLimit: RateLimit | null;
}

export type ApiToken = Omit<ApiTokenDocument, '_id' | 'tokenHash'> & { id: string };

export interface CreateTokenInput {
  tenantId: string;
  name?: string;
  rateLimit?: RateLimit;
}

export interface TokenStore {
  /** Creates a token; the returned `token` is its only appearance. */
  create(input: CreateTokenInput): Promise<{ token: string; apiToken: ApiToken }>;
  list(filter?: { tenantId?: string }): Promise<ApiToken[]>;
  /** Marks the token revoked; false when there is no such token or it was already revoked. */
  revoke(id: string): Promise<boolean>;
  /** The live (unrevoked) token with this secret, if any. */
  find(token: string): Promise<ApiToken | undefined>;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function apiTokensCollection(db: Db): Collection<ApiTokenDocument> {
  return db.collection<ApiTokenDocument>('api_tokens');
}

export async function ensureTokenIndexes(collection: Collection<ApiTokenDocument>): Promise<void> {
  await collection.createIndex({ tokenHash: 1 }, { unique: true });
  await collection.createIndex({ tenantId: 1, createdAt: 1 });
}

function fromDocument({ _id, tokenHash: _hash, ...rest }: ApiTokenDocument): ApiToken {
  return { id: _id, ...rest };
}

export function createTokenStore(
  collection: Collection<ApiTokenDocument>,
  options: { now?: () => Date } = {},
): TokenStore {
  const now = options.now ?? (() => new Date());
  return {
    async create({ tenantId, name, rateLimit }) {
      const token = `jl_${randomBytes(32).toString('base64url')}`;
      const doc: ApiTokenDocument = {
        _id: randomUUID(),
        tokenHash: hashToken(token),
        tenantId,
        name: name ?? null,
        createdAt: now(),
        revokedAt: null,
        rateLimit: rateLimit ?? null,
      };
      await collection.insertOne(doc);
      return { token, apiToken: fromDocument(doc) };
    },
    async list(filter = {}) {
      const query = filter.tenantId === undefined ? {} : { tenantId: filter.tenantId };
      const docs = await collection.find(query).sort({ tenantId: 1, createdAt: 1 }).toArray();
      return docs.map(fromDocument);
    },
    async revoke(id) {
      const result = await collection.updateOne({ _id: id, revokedAt: null }, { $set: { revokedAt: now() } });
      return result.modifiedCount === 1;
    },
    async find(token) {
      const doc = await collection.findOne({ tokenHash: hashToken(token), revokedAt: null });
      return doc ? fromDocument(doc) : undefined;
    },
  };
}

/**
 * Parses a rate such as `10/s`, `600/min` or `600` (per minute).
 */
export function parseRate(value: string): RateLimit {
  const match = /^\s*(\d+)\s*(?:\/\s*(s|sec|second|m|min|minute))?\s*$/i.exec(value);
  const points = match ? Number(match[1]) : NaN;
  if (!match || !Number.isSafeInteger(points) || points < 1) {
    throw new Error(`expected a rate such as 10/s or 600/min, got "${value}"`);
  }
  const perSecond = match[2] !== undefined && match[2].toLowerCase().startsWith('s');
  return { points, windowSeconds: perSecond ? 1 : 60 };
}

export function formatRate(limit: RateLimit): string {
  return `${limit.points}/${limit.windowSeconds === 1 ? 's' : limit.windowSeconds === 60 ? 'min' : `${limit.windowSeconds}s`}`;
}
