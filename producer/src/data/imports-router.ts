import { createHash } from 'node:crypto';
import { Transform, finished, type Readable } from 'node:stream';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  HTTP_URL_FORMAT,
  ImportTarget,
  JoblineError,
  isJoblineError,
  importSummary,
  readImportReport,
  type BlobStore,
  type DataCollections,
  ImportReport,
  ImportSummary,
  JobView,
  BookImportPayload,
  timeOrderedId,
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
import { parseCreateJob, toFieldIssues, type JobRequestLimits } from '../jobs/create-job-request';
import type { JobReader } from '../jobs/job-reader';
import { JobIdPath } from '../jobs/jobs-router';
import { jobListOperation, jobListRoute } from '../jobs/job-list-route';
import { queryIssues } from '../jobs/list-jobs-query';

export interface ImportsRouterDeps {
  acceptJobs: AcceptJobs;
  reader: JobReader;
  blobs: BlobStore;
  data: DataCollections;
  /** Largest file one import may upload. */
  maxUploadBytes: number;
  /** The bounds job requests are checked against (what a `url` may point at, among them). */
  limits: JobRequestLimits;
}

/** The job types behind `/v1/imports`. */
export const IMPORT_JOB_TYPES = ['data.import', 'book.import'] as const;

const JobId = z.uuid();
/** `{url}`: where the runner downloads the file from (http or https; checked against the SSRF guard). */
const UrlImport = z
  .object({
    url: z
      .string()
      .min(1)
      .max(2048)
      .meta(HTTP_URL_FORMAT)
      .describe('http(s), downloaded by the runner; not a loopback, private, link-local or metadata address'),
  })
  .strict();

/**
 * An import as `/v1/imports/{id}` shows it: the job, and once its runner has begun, the import's report; beside them
 * the id and the report's figures under the names of the Bulk Data Import/Export API (`job_id`, `totalRecords`, ...).
 */
export const ImportView = JobView.extend({
  job_id: JobView.shape.id.describe('`id`'),
  ...ImportSummary.shape,
  report: ImportReport.nullable().describe(
    'counts and the first 100 rejected records; null for books and until it starts',
  ),
});
export type ImportView = z.infer<typeof ImportView>;
/** `resource`; for books also what the file may leave out: `title`, `author`, `language`. */
const ImportQuery = z.discriminatedUnion('resource', [
  z.object({ resource: ImportTarget }).strict(),
  z
    .object({
      resource: z.literal('books'),
      title: BookImportPayload.shape.title,
      author: BookImportPayload.shape.author,
      language: BookImportPayload.shape.language,
    })
    .strict(),
]);

export const IMPORTS_PATH = '/v1/imports';

const ImportViewBody = named('ImportView', ImportView);
const IMPORT_LINKS = jobLinks({
  GetImport: 'getImport',
  GetImportJob: 'getJob',
  StreamImport: 'streamJob',
  ListImportEvents: 'listJobEvents',
  CancelImport: 'cancelJob',
});

const createImport = operation('post', IMPORTS_PATH, {
  operationId: 'createImport',
  summary: 'Import a file',
  description:
    'The multipart field `file` is streamed to the blob store (at most IMPORT_MAX_BYTES) and a job loads it: ' +
    '`data.import` for `users`, `articles`, `comments` or `mixed` (NDJSON, JSON array or CSV, told by type, name or ' +
    'content; every record validated, relations checked, rejected records reported), `book.import` for `books` (a ' +
    'Markdown manuscript or an EPUB, told by the file’s name or type: `.md`, `.markdown`, `.txt`, `.epub`, ' +
    '`text/markdown`, `text/plain`, `application/epub+zip`). The Idempotency-Key is bound to the file’s content. ' +
    'Instead of a file, `{url}` as JSON has the runner download it (SSRF-guarded) into the blob store first; books ' +
    'come as uploads only.',
  tags: ['imports'],
  query: {
    name: 'query',
    description: '`resource`, and for `books` the `title`, `author` and `language` the file may leave out',
    schema: ImportQuery,
  },
  headers: IdempotencyKeyHeader,
  body: {
    required: true,
    content: {
      'application/json': { schema: UrlImport },
      'multipart/form-data': {
        schema: {
          type: 'object',
          required: ['file'],
          properties: { file: { type: 'string', format: 'binary', description: 'the data, or the book' } },
        },
      },
    },
  },
  responses: {
    '202': {
      description: 'the import job is in Kafka',
      headers: { ...LOCATION_HEADER('import'), ...IDEMPOTENT_REPLAYED_HEADER },
      ...json(ImportViewBody),
      links: IMPORT_LINKS,
    },
  },
  errors: CREATION_ERRORS,
});

const listImports = jobListOperation(
  IMPORTS_PATH,
  {
    operationId: 'listImports',
    summary: 'List imports',
    description: 'The tenant’s `data.import` and `book.import` jobs, with the filters and cursor of GET /v1/jobs.',
    tags: ['imports'],
  },
  IMPORT_JOB_TYPES,
);

const getImport = operation('get', `${IMPORTS_PATH}/{id}`, {
  operationId: 'getImport',
  summary: 'An import and its report',
  tags: ['imports'],
  path: JobIdPath,
  responses: { '200': { description: 'the import', ...json(ImportViewBody), links: IMPORT_LINKS } },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND'],
});

/** The operations of `/v1/imports`, as the router serves them. */
export const IMPORTS_OPERATIONS = [createImport, listImports, getImport];

/** A book comes as a Markdown manuscript or an EPUB, told apart by the file's name or type. */
function bookFormat(upload: StoredUpload, contentType: string): 'markdown' | 'epub' {
  if (/\.epub$/i.test(upload.name) || contentType === 'application/epub+zip') return 'epub';
  if (/\.(md|markdown|txt)$/i.test(upload.name) || /^text\/(markdown|plain)/.test(contentType)) return 'markdown';
  throw new JoblineError('VALIDATION_FAILED', 'a book is imported from a Markdown manuscript or an EPUB', {
    details: [{ field: 'file', code: 'invalid_value', message: 'a .md, .markdown, .txt or .epub file' }],
  });
}

/** A file name as a blob key segment: its last path part, with anything unusual replaced. */
function safeFileName(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .replace(/[^\w.-]+/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 120);
  return cleaned || 'upload';
}

interface StoredUpload {
  key: string;
  name: string;
  contentType: string;
  bytes: number;
  sha256: string;
}

/** A body the multipart parser cannot read to its end: the client's framing is broken, whichever part of it. */
function malformedUpload(err: Error): JoblineError {
  return new JoblineError('VALIDATION_FAILED', `malformed multipart body: ${err.message}`, {
    cause: err,
    details: [{ field: '(body)', code: 'malformed_multipart', message: err.message }],
  });
}

/**
 * Streams the request's `file` part to the blob store as it arrives (never whole in memory), hashing it on the way,
 * and refuses it past `maxBytes`.
 *
 * Every error of the request, the parser and the file's stream settles the promise, once, and only after whatever was
 * stored of the file is deleted: the caller answers a refused upload with nothing left behind. busboy reports a
 * malformed part header by emitting 'error' and parsing on, so one body can raise several; they all land here.
 */
function storeUpload(req: Request, blobs: BlobStore, keyPrefix: string, maxBytes: number): Promise<StoredUpload> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxBytes, fields: 10, parts: 20 } });
    } catch (err) {
      reject(new JoblineError('UNSUPPORTED_MEDIA_TYPE', (err as Error).message));
      return;
    }
    let upload: Promise<StoredUpload> | null = null;
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      // The rest of the body is read and dropped, so that the answer reaches a client that is still sending.
      req.resume();
      parser.destroy();
      void (upload ?? Promise.resolve(null))
        .then((stored) => stored && blobs.delete(stored.key))
        .catch(() => undefined)
        .then(() => reject(err));
    };
    const succeed = (stored: StoredUpload) => {
      if (settled) return;
      settled = true;
      resolve(stored);
    };

    parser.on('file', (field, file: Readable, info) => {
      if (settled || field !== 'file' || upload) {
        // A part nobody reads still fails with the body; the parser reports that failure itself.
        file.on('error', () => undefined);
        file.resume();
        return;
      }
      const name = safeFileName(info.filename);
      const key = `${keyPrefix}/${name}`;
      const hash = createHash('sha256');
      let bytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      let tooLarge = false;
      file.once('limit', () => {
        tooLarge = true;
        counted.destroy(new JoblineError('PAYLOAD_TOO_LARGE', `the file exceeds ${maxBytes} bytes`));
      });
      // pipe() does not pass errors on: a body cut short inside the file must fail the put, not leave it waiting.
      file.on('error', (err: Error) => counted.destroy(malformedUpload(err)));
      // A put reads a failure from the stream itself; one that gave up without reading it must not leave it unheard.
      counted.on('error', () => undefined);
      file.pipe(counted);
      upload = blobs.put(key, counted, { contentType: info.mimeType }).then(
        () => ({ key, name, contentType: info.mimeType, bytes, sha256: hash.digest('hex') }),
        async (err: unknown) => {
          await blobs.delete(key).catch(() => undefined);
          if (tooLarge) {
            throw new JoblineError('PAYLOAD_TOO_LARGE', `the file exceeds ${maxBytes} bytes`, {
              details: [{ field: 'file', code: 'too_big', message: `at most ${maxBytes} bytes` }],
            });
          }
          throw err;
        },
      );
      // A put that fails (too large, the store down) ends the upload now, not once the client has sent the rest.
      void upload.catch(fail);
    });
    parser.on('error', (err: Error) => fail(malformedUpload(err)));
    parser.on('close', () => {
      if (settled) return;
      if (!upload) {
        fail(
          new JoblineError('VALIDATION_FAILED', 'the upload has no file', {
            details: [{ field: 'file', code: 'required', message: 'send the data as the multipart field `file`' }],
          }),
        );
        return;
      }
      upload.then(succeed, fail);
    });
    // pipe() does not pass the request's errors on either: a client that goes away mid-upload ends it here.
    finished(req, (err) => {
      if (err) {
        fail(
          new JoblineError('VALIDATION_FAILED', `the request body was cut short: ${err.message}`, {
            cause: err,
            details: [{ field: '(body)', code: 'incomplete', message: 'the client stopped sending the body' }],
          }),
        );
      }
    });
    req.pipe(parser);
  });
}

function importViewOf(view: JobView, report: ImportReport | null): ImportView {
  return { ...view, job_id: view.id, ...importSummary(report), report };
}

async function importView(deps: ImportsRouterDeps, tenantId: string, view: JobView): Promise<ImportView> {
  return importViewOf(view, await readImportReport(deps.data, tenantId, view.id));
}

/**
 * `/v1/imports`: a multipart upload (`file`) is streamed to the blob store under the tenant's prefix, and a
 * `data.import` job loads it into `users`, `articles` or `comments` (or a `book.import` job makes a book of it); the
 * job's id is the import's id.
 */
export function importsRouter(deps: ImportsRouterDeps): Router {
  const router = Router();

  route(router, IMPORTS_PATH, createImport, async (req, res) => {
    const query = ImportQuery.safeParse(req.query);
    if (!query.success) {
      throw new JoblineError('VALIDATION_FAILED', 'invalid import query', { details: queryIssues(query.error) });
    }
    if (req.is('application/json')) {
      const body = UrlImport.safeParse(req.body ?? {});
      if (!body.success) {
        throw new JoblineError('VALIDATION_FAILED', 'the import request is invalid', {
          details: toFieldIssues(body.error),
        });
      }
      if (query.data.resource === 'books') {
        throw new JoblineError('VALIDATION_FAILED', 'books are imported from an upload', {
          details: [{ field: 'url', code: 'invalid_value', message: 'upload the manuscript or EPUB as `file`' }],
        });
      }
      let request;
      try {
        request = parseCreateJob(
          { type: 'data.import', payload: { resource: query.data.resource, url: body.data.url }, maxAttempts: 5 },
          deps.limits,
        );
      } catch (err) {
        // The client sent `url`, not a job payload: name the field as it knows it.
        if (isJoblineError(err)) {
          for (const issue of err.details) issue.field = issue.field.replace(/^payload\.url$/, 'url');
        }
        throw err;
      }
      const [view] = await deps.acceptJobs(req, res, [request]);
      res.status(202).location(`${req.baseUrl}/${view!.id}`).json(importViewOf(view!, null));
      return;
    }
    if (!req.is('multipart/form-data')) {
      throw new JoblineError(
        'UNSUPPORTED_MEDIA_TYPE',
        'send the file as multipart/form-data (field `file`), or {url} as JSON',
        {
          details: [
            { field: 'Content-Type', code: 'invalid_value', message: 'multipart/form-data or application/json' },
          ],
        },
      );
    }
    const tenantId = tenantOf(req);
    const jobId = timeOrderedId();
    const upload = await storeUpload(req, deps.blobs, `${tenantId}/imports/${jobId}`, deps.maxUploadBytes);
    const params = query.data;
    let request;
    try {
      request =
        params.resource === 'books'
          ? parseCreateJob({
              type: 'book.import',
              payload: {
                blobKey: upload.key,
                format: bookFormat(upload, upload.contentType),
                title: params.title,
                author: params.author,
                language: params.language,
              },
              maxAttempts: 5,
            })
          : parseCreateJob({
              type: 'data.import',
              payload: { resource: params.resource, blobKey: upload.key },
              maxAttempts: 5,
            });
    } catch (err) {
      await deps.blobs.delete(upload.key).catch(() => undefined);
      throw err;
    }
    // The Idempotency-Key is bound to what was uploaded, not to the multipart framing around it.
    req.body = {
      resource: query.data.resource,
      file: { name: upload.name, bytes: upload.bytes, sha256: upload.sha256 },
    };
    const [view] = await deps.acceptJobs(req, res, [request], [jobId]).catch(async (err: unknown) => {
      // Kafka may still take a job whose publishing timed out, and a retry with the Idempotency-Key publishes it
      // again: its file stays.
      if (!(isJoblineError(err) && err.code === 'KAFKA_UNAVAILABLE')) {
        await deps.blobs.delete(upload.key).catch(() => undefined);
      }
      throw err;
    });
    // A replayed request gets the first one's import; its own copy of the file is not needed.
    if (view!.id !== jobId) await deps.blobs.delete(upload.key).catch(() => undefined);
    res.status(202).location(`${req.baseUrl}/${view!.id}`).json(importViewOf(view!, null));
  });

  route(router, IMPORTS_PATH, listImports, jobListRoute(deps.reader, IMPORT_JOB_TYPES));

  route(router, IMPORTS_PATH, getImport, async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    const view = id.success ? await deps.reader.find(tenantId, id.data) : null;
    if (!view || !(IMPORT_JOB_TYPES as readonly string[]).includes(view.type)) {
      throw new JoblineError('JOB_NOT_FOUND', `no import ${String(req.params.id)}`);
    }
    res.json(await importView(deps, tenantId, view));
  });

  return router;
}
