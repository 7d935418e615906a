import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The resources that `data.import` and `data.export` move in bulk, modelled on the RealWorld app. A record names
 * itself and what it refers to by external UUIDs, chosen by the client; jobline stores each record under an internal
 * id and keeps relations as internal ids, so an export maps them back to the external ids the client knows.
 */
export const RESOURCES = ['users', 'articles', 'comments'] as const;
export const Resource = z.enum(RESOURCES);
export type Resource = z.infer<typeof Resource>;

/**
 * What one import loads: one resource, or `mixed`, where every record names its own in a `resource` field (so that
 * one file can carry users, then their articles, then the comments on those).
 */
export const ImportTarget = z.enum([...RESOURCES, 'mixed']);
export type ImportTarget = z.infer<typeof ImportTarget>;

const externalId = z.uuid();
/** Absent, null and (from CSV) empty all mean "not given". */
const optionalText = (max: number) => z.string().max(max).nullish();
const createdAt = z.iso.datetime({ offset: true }).optional();

/**
 * Unknown keys are dropped rather than refused: bulk files often carry extra columns (`following`, `favorited`,
 * `updatedAt`, an export's own `resource`), and a typo in a required field still fails on that field.
 */
export const UserRecord = z.object({
  externalId,
  username: z.string().trim().min(1).max(100),
  email: z.email().max(254),
  bio: optionalText(10_000),
  image: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .nullish(),
  createdAt,
});
export type UserRecord = z.infer<typeof UserRecord>;

export const ArticleRecord = z.object({
  externalId,
  authorExternalId: externalId,
  slug: z
    .string()
    .max(300)
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'lowercase letters and digits in dash-separated words'),
  title: z.string().trim().min(1).max(300),
  /** Defaults to empty: CSV cannot tell an empty description from none. */
  description: z.string().max(2000).default(''),
  body: z.string().max(1_000_000),
  tagList: z.array(z.string().trim().min(1).max(100)).max(100).default([]),
  /** The client's own word for where the article stands (`draft`, `published`, ...); exports filter on it. */
  status: z.string().trim().min(1).max(50).nullish(),
  createdAt,
});
export type ArticleRecord = z.infer<typeof ArticleRecord>;

export const CommentRecord = z.object({
  externalId,
  articleExternalId: externalId,
  authorExternalId: externalId,
  body: z.string().trim().min(1).max(100_000),
  createdAt,
});
export type CommentRecord = z.infer<typeof CommentRecord>;

export const RECORD_SCHEMAS = { users: UserRecord, articles: ArticleRecord, comments: CommentRecord } as const;
export type ResourceRecord = UserRecord | ArticleRecord | CommentRecord;

/** A record field holding another record's external id, stored as that record's internal id. */
export interface Relation {
  field: string;
  storedAs: string;
  target: Resource;
}

export const RELATIONS: Record<Resource, readonly Relation[]> = {
  users: [],
  articles: [{ field: 'authorExternalId', storedAs: 'authorId', target: 'users' }],
  comments: [
    { field: 'articleExternalId', storedAs: 'articleId', target: 'articles' },
    { field: 'authorExternalId', storedAs: 'authorId', target: 'users' },
  ],
};

/** A record's fields in their canonical order: what an export writes when no `fields` are asked for. */
export const RECORD_FIELDS: Record<Resource, readonly string[]> = {
  users: Object.keys(UserRecord.shape),
  articles: Object.keys(ArticleRecord.shape),
  comments: Object.keys(CommentRecord.shape),
};

/** Fields holding a list of strings; CSV has no lists, so these get an encoding of their own there. */
export const LIST_FIELDS: Record<Resource, readonly string[]> = { users: [], articles: ['tagList'], comments: [] };

const ID_PREFIX: Record<Resource, string> = { users: 'usr', articles: 'art', comments: 'cmt' };

/**
 * The internal id of a tenant's record: derived from the tenant, the resource and the external id rather than drawn
 * at random, so that an import resolves relations (also to records earlier in the same batch, not yet written) with
 * no lookup, two imports racing on one record agree on its id, and a re-run after a crash rewrites the same
 * documents. 128 bits of SHA-256 keep collisions out of reach; the tenant in the hash keeps equal external ids of two
 * tenants apart.
 */
export function internalId(tenantId: string, resource: Resource, externalId: string): string {
  const digest = createHash('sha256').update(`${tenantId}\0${resource}\0${externalId}`).digest();
  return `${ID_PREFIX[resource]}_${digest.subarray(0, 16).toString('base64url')}`;
}
