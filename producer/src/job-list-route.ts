import type { RequestHandler } from 'express';
import { tenantOf } from './auth';
import type { JobReader } from './job-reader';
import { encodeCursor, parseListJobsQuery } from './list-jobs-query';

/**
 * A `GET` that lists the tenant's jobs with the filters and cursor of `GET /v1/jobs`, limited to `types` when given
 * (`/v1/imports` and `/v1/exports` list their own jobs).
 */
export function jobListRoute(reader: JobReader, types: readonly string[] | null = null): RequestHandler {
  return async (req, res) => {
    const query = parseListJobsQuery(req.query, types);
    const page = await reader.list(tenantOf(req), query);
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next, query) : null });
  };
}
