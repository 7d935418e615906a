import type { Filter } from 'mongodb';
import { z } from 'zod';
import type { RecordDocument } from './data-collections';
import { ArticleRecord, CommentRecord, UserRecord, internalId } from './data-resources';
import { RecordFormat } from './record-format';

/**
 * What an export may be narrowed by: equality on a few fields per resource, a tag, and a `createdAt` range
 * (`createdAfter` inclusive, `createdBefore` exclusive). Values are plain strings checked here, and the MongoDB query
 * is built from them by `exportQuery`, so a client never gets an operator into it. Relations are filtered by the
 * external ids the client knows.
 */
const commonFilters = {
  externalId: z.uuid().optional(),
  createdAfter: z.iso.datetime({ offset: true }).optional(),
  createdBefore: z.iso.datetime({ offset: true }).optional(),
};

export const UserExportFilters = z
  .object({
    ...commonFilters,
    username: z.string().min(1).max(100).optional(),
    email: z.string().min(1).max(254).optional(),
  })
  .strict();
export const ArticleExportFilters = z
  .object({
    ...commonFilters,
    authorExternalId: z.uuid().optional(),
    slug: z.string().min(1).max(300).optional(),
    /** Articles whose `tagList` holds this tag. */
    tag: z.string().min(1).max(100).optional(),
  })
  .strict();
export const CommentExportFilters = z
  .object({ ...commonFilters, articleExternalId: z.uuid().optional(), authorExternalId: z.uuid().optional() })
  .strict();

/** `fields`: which of the record's fields to write, in this order; all of them, in their canonical order, if absent. */
const fieldList = <T extends z.ZodEnum>(fields: T) =>
  z
    .array(fields)
    .min(1)
    .max(50)
    .refine((list) => new Set(list).size === list.length, 'each field at most once')
    .meta({ uniqueItems: true })
    .optional();

/** An export: `{resource, format, filters, fields}`, checked against the resource named. */
export const ExportRequest = z.discriminatedUnion('resource', [
  z
    .object({
      resource: z.literal('users'),
      format: RecordFormat.default('ndjson'),
      filters: UserExportFilters.default({}),
      fields: fieldList(UserRecord.keyof()),
    })
    .strict(),
  z
    .object({
      resource: z.literal('articles'),
      format: RecordFormat.default('ndjson'),
      filters: ArticleExportFilters.default({}),
      fields: fieldList(ArticleRecord.keyof()),
    })
    .strict(),
  z
    .object({
      resource: z.literal('comments'),
      format: RecordFormat.default('ndjson'),
      filters: CommentExportFilters.default({}),
      fields: fieldList(CommentRecord.keyof()),
    })
    .strict(),
]);
export type ExportRequest = z.infer<typeof ExportRequest>;
export type ExportRequestInput = z.input<typeof ExportRequest>;

/** The MongoDB query for an export's filters, within the tenant. */
export function exportQuery(tenantId: string, request: ExportRequest): Filter<RecordDocument> {
  const query: Record<string, unknown> = { tenantId };
  const filters: Record<string, string | undefined> = request.filters;
  const range: Record<string, Date> = {};
  for (const [name, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    switch (name) {
      case 'createdAfter':
        range.$gte = new Date(value);
        break;
      case 'createdBefore':
        range.$lt = new Date(value);
        break;
      case 'tag':
        query.tagList = value;
        break;
      case 'authorExternalId':
        query.authorId = internalId(tenantId, 'users', value);
        break;
      case 'articleExternalId':
        query.articleId = internalId(tenantId, 'articles', value);
        break;
      default:
        query[name] = value;
    }
  }
  if (Object.keys(range).length > 0) query.createdAt = range;
  return query as Filter<RecordDocument>;
}
