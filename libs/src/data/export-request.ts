import type { Filter } from 'mongodb';
import { z } from 'zod';
import type { RecordDocument } from './data-collections';
import { ArticleRecord, CommentRecord, UserRecord, internalId, type Resource } from './data-resources';
import { FIELD_ALIASES, canonicalField } from './record-aliases';
import { RecordFormat } from './record-format';

/**
 * What an export may be narrowed by: equality on a few fields per resource, a tag, and a `createdAt` range
 * (`createdAfter` inclusive, `createdBefore` exclusive). Values are plain strings checked here, and the MongoDB query
 * is built from them by `exportQuery`, so a client never gets an operator into it. Relations are filtered by the
 * external ids the client knows. A field may also be named by its aliases (`id`, `authorId`, ...: see
 * `record-aliases.ts`); an alias and its field given together must agree.
 */
const commonFilters = {
  externalId: z.uuid().optional(),
  createdAfter: z.iso.datetime({ offset: true }).optional(),
  createdBefore: z.iso.datetime({ offset: true }).optional(),
};

/** The filters of `resource`, and one more for each alias of a filtered field; an alias may not contradict it. */
function exportFilters<T extends z.ZodRawShape>(resource: Resource, shape: T) {
  const aliases = Object.entries(FIELD_ALIASES[resource]).filter(([, field]) => Object.hasOwn(shape, field));
  const aliasShape: Record<string, z.ZodOptional<z.ZodUUID>> = Object.fromEntries(
    aliases.map(([alias, field]) => [alias, z.uuid().optional().describe(`\`${field}\` by another name`)]),
  );
  return z
    .object({ ...shape, ...aliasShape })
    .strict()
    .superRefine((filters: Record<string, unknown>, ctx) => {
      for (const [alias, field] of aliases) {
        const value = filters[alias];
        if (value === undefined) continue;
        const names = [field, ...aliases.filter(([a, f]) => f === field && a !== alias).map(([a]) => a)];
        const other = names.find((name) => filters[name] !== undefined && filters[name] !== value);
        if (other !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [alias],
            message: `names the same field as ${other}, with another value`,
          });
        }
      }
    })
    .meta({ allOf: sameFieldPairs(aliases).map((pair) => ({ not: { required: pair } })) });
}

/**
 * The pairs of names (a field and an alias, or two aliases) that name one field: the API document states "not both",
 * which JSON Schema can, instead of "the same value", which it cannot.
 */
function sameFieldPairs(aliases: [string, string][]): [string, string][] {
  const names = new Map<string, string[]>();
  for (const [alias, field] of aliases) names.set(field, [...(names.get(field) ?? [field]), alias]);
  return [...names.values()].flatMap((group) =>
    group.flatMap((a, i) => group.slice(i + 1).map((b): [string, string] => [a, b])),
  );
}

export const UserExportFilters = exportFilters('users', {
  ...commonFilters,
  username: z.string().min(1).max(100).optional(),
  email: z.string().min(1).max(254).optional(),
});
export const ArticleExportFilters = exportFilters('articles', {
  ...commonFilters,
  authorExternalId: z.uuid().optional(),
  slug: z.string().min(1).max(300).optional(),
  status: z.string().min(1).max(50).optional(),
  /** Articles whose `tagList` holds this tag. */
  tag: z.string().min(1).max(100).optional(),
});
export const CommentExportFilters = exportFilters('comments', {
  ...commonFilters,
  articleExternalId: z.uuid().optional(),
  authorExternalId: z.uuid().optional(),
});

/**
 * `fields`: which of the record's fields to write, in this order, each under the name asked (the field's or one of its
 * aliases); all of them, under jobline's names in their canonical order, if absent.
 */
const fieldList = (resource: Resource, record: z.ZodObject) =>
  z
    .array(z.enum([...Object.keys(record.shape), ...Object.keys(FIELD_ALIASES[resource])]))
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
      fields: fieldList('users', UserRecord),
    })
    .strict(),
  z
    .object({
      resource: z.literal('articles'),
      format: RecordFormat.default('ndjson'),
      filters: ArticleExportFilters.default({}),
      fields: fieldList('articles', ArticleRecord),
    })
    .strict(),
  z
    .object({
      resource: z.literal('comments'),
      format: RecordFormat.default('ndjson'),
      filters: CommentExportFilters.default({}),
      fields: fieldList('comments', CommentRecord),
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
  for (const [given, value] of Object.entries(filters)) {
    if (value === undefined) continue;
    const name = canonicalField(request.resource, given);
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
