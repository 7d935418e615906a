import type { RequestHandler } from 'express';
import { JobView } from '@jobline/libs';
import { z } from 'zod';
import { json, named, operation, type ApiOperation, type ApiOperationSpec } from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import type { JobReader } from './job-reader';
import { encodeCursor, listJobsParams, parseListJobsQuery } from './list-jobs-query';

/** One page of a job listing. */
export const JobPage = named(
  'JobPage',
  z.object({
    items: z.array(named('JobView', JobView)),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
  }),
);

export const METADATA_FILTERS =
  'Besides these parameters, `metadata.<key>=<value>` keeps the jobs whose metadata has that value at that key ' +
  '(`metadata.customer=acme`), one parameter per key, all of which must match; the key may not contain `.` or start ' +
  'with `$`.';

/** A `GET` that lists jobs with the query of `GET /v1/jobs`, of the given types only when there are some. */
export function jobListOperation(
  path: string,
  spec: Pick<ApiOperationSpec, 'operationId' | 'summary' | 'description' | 'tags'>,
  types: readonly string[] | null = null,
): ApiOperation {
  return operation('get', path, {
    ...spec,
    description: `${spec.description ?? ''} ${METADATA_FILTERS}`.trim(),
    query: listJobsParams(types),
    responses: {
      '200': { description: 'one page of jobs', ...json(JobPage) },
    },
    errors: ['VALIDATION_FAILED'],
  });
}

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
