import { createHash } from 'node:crypto';
import { z } from 'zod';
import { JOB_STATUSES, JoblineError, type FieldIssue, type JobStatus } from '@jobline/libs';
import { toFieldIssues } from './create-job-request';

export const DEFAULT_LIST_LIMIT = 20;
export const MAX_LIST_LIMIT = 100;
const METADATA_PREFIX = 'metadata.';

/** Where a page ends: the sort key (createdAt desc, then id desc) of its last job. */
export interface ListPosition {
  createdAt: string;
  id: string;
}

/** A validated `GET /v1/jobs` query. Instants are normalised to the projection's format (UTC, milliseconds). */
export interface ListJobsQuery {
  statuses: JobStatus[] | null;
  type: string | null;
  /** The job types a route lists (`/v1/imports`, `/v1/exports`); null: any. */
  types: readonly string[] | null;
  /** Inclusive lower bound of createdAt. */
  createdAfter: string | null;
  /** Exclusive upper bound of createdAt. */
  createdBefore: string | null;
  metadata: Record<string, string>;
  limit: number;
  after: ListPosition | null;
}

const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

const STATUS_LIST = new RegExp(`^(${JOB_STATUSES.join('|')})(,(${JOB_STATUSES.join('|')}))*$`);

/** The query parameters of `GET /v1/jobs` but `metadata.<key>`; the API document lists them from here. */
export const ListJobsParams = z
  .object({
    // The pattern is for the API document; each status is checked on its own, so that an error names its place.
    status: z
      .string()
      .meta({ pattern: STATUS_LIST.source })
      .transform((s, ctx) => {
        const statuses = s.split(',');
        statuses.forEach((status, i) => {
          if (!(JOB_STATUSES as readonly string[]).includes(status)) {
            ctx.addIssue({ code: 'custom', path: [i], message: `expected one of ${JOB_STATUSES.join(', ')}` });
          }
        });
        return statuses as JobStatus[];
      })
      .optional()
      .describe('one status or several, comma-separated (`failed,cancelled`)'),
    type: z.string().min(1).max(100).optional().describe('the job type'),
    createdAfter: Instant.optional().describe('jobs created at or after this instant (ISO 8601 with offset)'),
    createdBefore: Instant.optional().describe('jobs created before this instant (ISO 8601 with offset)'),
    limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(DEFAULT_LIST_LIMIT).describe('jobs per page'),
    cursor: z
      .string()
      .min(1)
      .max(1000)
      .regex(/^[A-Za-z0-9_-]+$/, 'pass nextCursor from the previous page unchanged')
      .optional()
      .describe(
        '`nextCursor` of the previous page, unchanged, with the same filters; any other value is refused (400)',
      ),
  })
  .strict();

/** The query parameters of a listing limited to some job types (`/v1/imports`): `type` is one of them. */
export function listJobsParams(types: readonly string[] | null): z.ZodObject {
  if (!types) return ListJobsParams;
  return ListJobsParams.extend({
    type: z
      .enum(types as [string, ...string[]])
      .optional()
      .describe(`the job type: ${types.join(' or ')}`),
  });
}

/** A metadata key as a filter may name it: what the projection can match on a field path. */
const MetadataKey = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^.$][^.]*$/, 'a metadata filter key may not contain "." or start with "$"');

const CursorBody = z.object({ c: z.iso.datetime(), i: z.uuid(), f: z.string() }).strict();

/** Ties a cursor to the filters it was issued for, so that it is not used to page through another result set. */
function filtersFingerprint(query: Omit<ListJobsQuery, 'limit' | 'after'>): string {
  const canonical = JSON.stringify([
    query.statuses ? [...new Set(query.statuses)].sort() : null,
    query.type,
    query.types,
    query.createdAfter,
    query.createdBefore,
    Object.entries(query.metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** The opaque cursor that continues after `position` under the filters of `query`. */
export function encodeCursor(position: ListPosition, query: ListJobsQuery): string {
  const body = { c: position.createdAt, i: position.id, f: filtersFingerprint(query) };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

const invalid = (issues: FieldIssue[]) =>
  new JoblineError('VALIDATION_FAILED', 'the query is invalid', { details: issues });
const cursorIssue = (message: string): FieldIssue => ({ field: 'cursor', code: 'invalid_cursor', message });

function decodeCursor(cursor: string, fingerprint: string): ListPosition {
  let json: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid([cursorIssue('malformed cursor; pass nextCursor from the previous page unchanged')]);
  }
  const parsed = CursorBody.safeParse(json);
  if (!parsed.success)
    throw invalid([cursorIssue('malformed cursor; pass nextCursor from the previous page unchanged')]);
  if (parsed.data.f !== fingerprint) {
    throw invalid([cursorIssue('the cursor belongs to a query with other filters; repeat those filters or drop it')]);
  }
  return { createdAt: parsed.data.c, id: parsed.data.i };
}

/** Field issues named by query parameter; each unknown parameter is named on its own. */
export function queryIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: key, code: issue.code, message: 'unknown query parameter' }))
      : toFieldIssues(new z.ZodError([issue])),
  );
}

/**
 * Validates the query string of `GET /v1/jobs` (as express's simple parser gives it: repeated names become arrays,
 * which are refused). Throws VALIDATION_FAILED naming every offending parameter, unknown ones included.
 */
export function parseListJobsQuery(
  raw: Record<string, unknown>,
  types: readonly string[] | null = null,
): ListJobsQuery {
  // Entries, not assignments, so that a parameter named `__proto__` stays a parameter (and is refused as unknown, or
  // filters on that metadata key) instead of replacing an object's prototype.
  const params: [string, unknown][] = [];
  const metadata: [string, string][] = [];
  const issues: FieldIssue[] = [];
  for (const [name, value] of Object.entries(raw)) {
    if (!name.startsWith(METADATA_PREFIX)) {
      params.push([name, value]);
      continue;
    }
    const key = MetadataKey.safeParse(name.slice(METADATA_PREFIX.length));
    if (!key.success) issues.push(...toFieldIssues(key.error, [name]));
    else if (typeof value !== 'string') issues.push({ field: name, code: 'invalid_type', message: 'give it once' });
    else metadata.push([key.data, value]);
  }
  const parsed = ListJobsParams.safeParse(Object.fromEntries(params));
  if (!parsed.success) issues.push(...queryIssues(parsed.error));
  if (!parsed.success || issues.length > 0) throw invalid(issues);

  const { status, type, createdAfter, createdBefore, limit, cursor } = parsed.data;
  if (types && type !== undefined && !types.includes(type)) {
    throw invalid([{ field: 'type', code: 'invalid_value', message: `one of: ${types.join(', ')}` }]);
  }
  const filters = {
    statuses: status ?? null,
    type: type ?? null,
    types,
    createdAfter: createdAfter ?? null,
    createdBefore: createdBefore ?? null,
    metadata: Object.fromEntries(metadata),
  };
  const after = cursor === undefined ? null : decodeCursor(cursor, filtersFingerprint(filters));
  return { ...filters, limit, after };
}
