import { pipeline } from 'node:stream/promises';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  BookExportPayload,
  CONTENT_TYPES,
  ExportRequest,
  JoblineError,
  exportRecords,
  isJoblineError,
  type BlobStore,
  type DataCollections,
  JobView,
  type Logger,
} from '@jobline/libs';
import type { AcceptJobs } from '../jobs/accept-jobs';
import {
  CREATION_ERRORS,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyKeyHeader,
  LOCATION_HEADER,
  json,
  jobLinks,
  named,
  operation,
  route,
} from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import { NotifyRequest, parseCreateJob, toFieldIssues, type JobRequestLimits } from '../jobs/create-job-request';
import type { JobReader } from '../jobs/job-reader';
import { JobPage, METADATA_FILTERS, jobListRoute } from '../jobs/job-list-route';
import { JobIdPath, jsonBody } from '../jobs/jobs-router';
import { listJobsParams, queryIssues } from '../jobs/list-jobs-query';

/** Signed, expiring links to an export's file, usable without a token (to mail them, or to hand them to a browser). */
export interface DownloadLinks {
  /** `path` with the query that signs it until the configured lifetime ends. */
  sign(path: string): { url: string; expiresAt: string };
  /** Whether the request's query signs `path` and has not expired. */
  verify(path: string, query: Record<string, unknown>): boolean;
}

export interface ExportsRouterDeps {
  acceptJobs: AcceptJobs;
  reader: JobReader;
  blobs: BlobStore;
  data: DataCollections;
  links: DownloadLinks;
  logger: Logger;
  /** The bounds job requests are checked against. */
  limits: JobRequestLimits;
}

/** The job types behind `/v1/exports`. */
export const EXPORT_JOB_TYPES = ['data.export', 'book.export'] as const;

/** `{resource: "books", id, format}`: one of the tenant's books as an EPUB 3 or a PDF. */
export const BookExportRequest = z
  .object({
    resource: z.literal('books'),
    id: BookExportPayload.shape.bookId,
    format: BookExportPayload.shape.format,
  })
  .strict();

/** `{bookId, type}`: the same, as book export requests are often written (`{"bookId": "…", "type": "epub"}`). */
export const BookExportByIdRequest = z
  .object({
    resource: z.literal('books').optional(),
    bookId: BookExportPayload.shape.bookId,
    type: BookExportPayload.shape.format.describe('the format, as `format` above'),
  })
  .strict();

const JobId = z.uuid();

/** An export as `/v1/exports/{id}` shows it; `job_id` is its id under the Bulk Data Import/Export API's name. */
export const ExportView = JobView.extend({
  job_id: JobView.shape.id.describe('`id`'),
  downloadUrl: z
    .string()
    .nullable()
    .describe('once completed: a signed link to the file that works without a token until downloadExpiresAt'),
  downloadExpiresAt: z.string().nullable(),
});

interface ExportResult {
  blobKey: string;
  contentType?: string;
}

function exportResult(view: JobView): ExportResult | null {
  const result = view.result as Partial<ExportResult> | null;
  return view.status === 'completed' && result && typeof result.blobKey === 'string'
    ? { blobKey: result.blobKey, contentType: result.contentType }
    : null;
}

const isExport = (view: JobView | null): view is JobView =>
  view !== null && (EXPORT_JOB_TYPES as readonly string[]).includes(view.type);

/**
 * The query of a streamed export: `resource` and `format`, and optionally `fields` (comma-separated; a name given
 * twice counts once). ExportRequest then checks them as it checks a `POST`'s body.
 */
const StreamQuery = z
  .object({
    resource: z.string(),
    format: z.string().optional(),
    fields: z
      .string()
      .transform((s) => [...new Set(s.split(','))])
      .optional(),
  })
  .strict();

/** StreamQuery as the API document shows it: per resource, the formats and field names ExportRequest takes. */
const StreamQueryByResource = z.discriminatedUnion(
  'resource',
  ExportRequest.options.map((request) => {
    const names = (request.shape.fields.unwrap().element as z.ZodEnum).options.map(String);
    const name = `(${names.join('|')})`;
    return z
      .object({
        resource: request.shape.resource,
        format: request.shape.format.unwrap().optional().describe('`ndjson` unless given'),
        fields: z
          .string()
          .regex(new RegExp(`^${name}(,${name})*$`))
          .optional()
          .describe('the fields to write, comma-separated, in this order; all of them unless given'),
      })
      .strict();
  }) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

/** The body of `POST /v1/exports`: records of a resource, or a book; and whom to mail the link. */
const CreateExportRequest = z
  .union([
    z.discriminatedUnion(
      'resource',
      [...ExportRequest.options, BookExportRequest].map((request) =>
        request.extend({ notify: NotifyRequest.optional() }),
      ) as unknown as [z.ZodObject, ...z.ZodObject[]],
    ),
    BookExportByIdRequest.extend({ notify: NotifyRequest.optional() }),
  ])
  .describe('records of a resource with format, filters and fields; or a book as EPUB or PDF');

export const EXPORTS_PATH = '/v1/exports';

const ExportViewBody = named('ExportView', ExportView);
const EXPORT_LINKS = jobLinks({
  GetExport: 'getExport',
  DownloadExport: 'downloadExport',
  GetExportJob: 'getJob',
  StreamExport: 'streamJob',
  CancelExport: 'cancelJob',
});
/** What an export's file, or a streamed export, is sent as. */
const FILE_TYPES = [
  ...new Set(Object.values(CONTENT_TYPES)),
  'application/epub+zip',
  'application/pdf',
  'application/octet-stream',
];

const createExport = operation('post', EXPORTS_PATH, {
  operationId: 'createExport',
  summary: 'Export to a file',
  description:
    'A `data.export` job writes the records to the blob store as NDJSON, a JSON array or CSV; a `book.export` job ' +
    'writes a book as an EPUB 3 or a PDF. `notify: {email}` mails a signed download link when it is done.',
  tags: ['exports'],
  headers: IdempotencyKeyHeader,
  body: { required: true, ...json(named('CreateExportRequest', CreateExportRequest)) },
  responses: {
    '202': {
      description: 'the export job is in Kafka',
      headers: { ...LOCATION_HEADER('export'), ...IDEMPOTENT_REPLAYED_HEADER },
      ...json(ExportViewBody),
      links: EXPORT_LINKS,
    },
  },
  errors: CREATION_ERRORS,
});

const listOrStreamExports = operation('get', EXPORTS_PATH, {
  operationId: 'listOrStreamExports',
  summary: 'List exports, or stream one',
  description:
    'Without `resource`: the tenant’s `data.export` and `book.export` jobs, with the filters and cursor of ' +
    `GET /v1/jobs. ${METADATA_FILTERS} With \`resource\` (\`users\`, \`articles\`, \`comments\`), \`format\` ` +
    '(`ndjson`, `json`, `csv`; default `ndjson`) and optionally `fields`: the records streamed straight into the ' +
    'response as a download, at the pace the client reads.',
  tags: ['exports'],
  query: {
    name: 'query',
    description: 'the filters and cursor of a listing, or what to stream',
    schema: z.union([listJobsParams(EXPORT_JOB_TYPES), StreamQueryByResource]),
  },
  responses: {
    '200': {
      description: 'one page of export jobs, or the streamed records as an attachment',
      content: {
        'application/json': { schema: z.union([JobPage, z.array(z.record(z.string(), z.unknown()))]) },
        ...Object.fromEntries(
          Object.values(CONTENT_TYPES)
            .filter((type) => type !== 'application/json')
            .map((type) => [type, { schema: { type: 'string' } }]),
        ),
      },
    },
  },
  errors: ['VALIDATION_FAILED'],
});

const getExport = operation('get', `${EXPORTS_PATH}/{id}`, {
  operationId: 'getExport',
  summary: 'An export, with its download link once done',
  tags: ['exports'],
  path: JobIdPath,
  responses: { '200': { description: 'the export', ...json(ExportViewBody), links: EXPORT_LINKS } },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND'],
});

export const downloadExport = operation('get', `${EXPORTS_PATH}/{id}/download`, {
  operationId: 'downloadExport',
  summary: 'The exported file',
  description:
    'With the token of the export’s tenant, or without one through the signed `downloadUrl` (`expires` and ' +
    '`signature` query parameters).',
  tags: ['exports'],
  auth: 'token-or-link',
  path: JobIdPath,
  query: z.object({
    expires: z.string().optional().describe('from `downloadUrl`'),
    signature: z.string().optional().describe('from `downloadUrl`; a link that is not signed or has expired is a 401'),
  }),
  responses: {
    '200': {
      description: 'the file, as an attachment',
      headers: { 'Content-Disposition': { description: '`attachment`', schema: { type: 'string' } } },
      content: Object.fromEntries(
        FILE_TYPES.map((type) => [
          type,
          // A JSON export is an array of records; every other file is bytes.
          { schema: type === CONTENT_TYPES.json ? { type: 'array' } : { type: 'string', format: 'binary' } },
        ]),
      ),
    },
  },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND', 'EXPORT_NOT_READY'],
});

/** The operations of `/v1/exports`, as the routers serve them (the download before authentication, in app.ts). */
export const EXPORTS_OPERATIONS = [createExport, listOrStreamExports, getExport, downloadExport];

/**
 * `/v1/exports`: `POST` starts a `data.export` job that writes the file to the blob store; `GET /{id}` shows it with
 * a signed `downloadUrl` once it is done; `GET ?resource=…&format=…` streams the export straight into the response
 * instead, with backpressure; `GET` without `resource` lists the tenant's export jobs.
 */
export function exportsRouter(deps: ExportsRouterDeps): Router {
  const router = Router();
  const viewOf = (req: Request, view: JobView) => {
    const done = exportResult(view);
    const link = done ? deps.links.sign(`${req.baseUrl}/${view.id}/download`) : null;
    return { ...view, job_id: view.id, downloadUrl: link?.url ?? null, downloadExpiresAt: link?.expiresAt ?? null };
  };

  route(router, EXPORTS_PATH, createExport, async (req, res) => {
    // `notify` is the job's, not the export's: whom to mail the download link when the file is ready.
    const { notify, ...raw } = (jsonBody(req) ?? {}) as { resource?: unknown; bookId?: unknown; notify?: unknown };
    const byBookId = raw.bookId !== undefined && (raw.resource === undefined || raw.resource === 'books');
    const body = (
      byBookId ? BookExportByIdRequest : raw.resource === 'books' ? BookExportRequest : ExportRequest
    ).safeParse(raw);
    if (!body.success) {
      throw new JoblineError('VALIDATION_FAILED', 'the export request is invalid', {
        details: toFieldIssues(body.error),
      });
    }
    const book =
      'bookId' in body.data
        ? { bookId: body.data.bookId, format: body.data.type }
        : body.data.resource === 'books'
          ? { bookId: body.data.id, format: body.data.format }
          : null;
    const request = book
      ? parseCreateJob({ type: 'book.export', payload: book, maxAttempts: 5, notify }, deps.limits)
      : parseCreateJob({ type: 'data.export', payload: body.data, maxAttempts: 5, notify }, deps.limits);
    const [view] = await deps.acceptJobs(req, res, [request]);
    res.status(202).location(`${req.baseUrl}/${view!.id}`).json(viewOf(req, view!));
  });

  const list = jobListRoute(deps.reader, EXPORT_JOB_TYPES);
  route(router, EXPORTS_PATH, listOrStreamExports, async (req, res, next) => {
    if (req.query.resource === undefined) return list(req, res, next);
    const query = StreamQuery.safeParse(req.query);
    if (!query.success) {
      throw new JoblineError('VALIDATION_FAILED', 'invalid export query', { details: queryIssues(query.error) });
    }
    const request = ExportRequest.safeParse(query.data);
    if (!request.success) {
      throw new JoblineError('VALIDATION_FAILED', 'invalid export query', { details: toFieldIssues(request.error) });
    }
    const abort = new AbortController();
    res.once('close', () => abort.abort(new Error('the client went away')));
    const run = exportRecords({
      collections: deps.data,
      tenantId: tenantOf(req),
      request: request.data,
      signal: abort.signal,
    });
    const { resource, format } = request.data;
    // attachment() before type(): it sets the type from the file name, which for `.ndjson` is no type at all.
    res.status(200).attachment(`${resource}.${format}`).type(CONTENT_TYPES[format]);
    try {
      await pipeline(run.stream, res);
    } catch (err) {
      // Headers are out: a failure can only cut the response short, which the client sees as an incomplete body.
      if (!abort.signal.aborted) deps.logger.warn('streamed export failed', { resource, err: String(err) });
    }
  });

  route(router, EXPORTS_PATH, getExport, async (req, res) => {
    const id = JobId.safeParse(req.params.id);
    const view = id.success ? await deps.reader.find(tenantOf(req), id.data) : null;
    if (!isExport(view)) throw new JoblineError('JOB_NOT_FOUND', `no export ${String(req.params.id)}`);
    res.json(viewOf(req, view));
  });

  return router;
}

/**
 * `GET /v1/exports/{id}/download`: the export's file, to its tenant's token or to anyone holding a signed link (the
 * link names the export, so it opens that file and no other). Mounted before authentication for the links' sake.
 */
export function exportDownload(
  deps: Pick<ExportsRouterDeps, 'blobs' | 'links'> & {
    /** The export job by id, whatever its tenant: the signature, not a token, vouches for the caller. */
    findAnyTenant(jobId: string): Promise<JobView | null>;
    reader: JobReader;
  },
  authenticate: RequestHandler,
): RequestHandler {
  return async (req, res) => {
    const id = JobId.safeParse(req.params.id);
    const path = `/v1/exports/${String(req.params.id)}/download`;
    let view: JobView | null;
    if (req.query.signature !== undefined) {
      if (!deps.links.verify(path, req.query)) {
        throw new JoblineError('UNAUTHORIZED', 'the download link is invalid or has expired');
      }
      view = id.success ? await deps.findAnyTenant(id.data) : null;
    } else {
      await new Promise<void>((resolve, reject) =>
        authenticate(req, res, (err?: unknown) => (err ? reject(err as Error) : resolve())),
      );
      view = id.success ? await deps.reader.find(tenantOf(req), id.data) : null;
    }
    if (!isExport(view)) throw new JoblineError('JOB_NOT_FOUND', `no export ${String(req.params.id)}`);
    const done = exportResult(view);
    if (!done) throw new JoblineError('EXPORT_NOT_READY', `export ${view.id} is ${view.status}`);
    let body;
    try {
      body = await deps.blobs.get(done.blobKey);
    } catch (err) {
      if (isJoblineError(err) && err.code === 'BLOB_NOT_FOUND') {
        throw new JoblineError('JOB_NOT_FOUND', `the file of export ${view.id} is gone`);
      }
      throw err;
    }
    const name = done.blobKey.split('/').pop() ?? 'export';
    res
      .status(200)
      .attachment(name)
      .type(done.contentType ?? 'application/octet-stream');
    // Headers are out: a failure can only cut the body short (pipeline destroys the response).
    await pipeline(body, res).catch(() => undefined);
  };
}
