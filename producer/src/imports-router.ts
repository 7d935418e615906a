import { createHash } from 'node:crypto';
import { Transform, finished, type Readable } from 'node:stream';
import busboy from 'busboy';
import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  ImportTarget,
  JoblineError,
  isJoblineError,
  readImportReport,
  type BlobStore,
  type DataCollections,
  ImportReport,
  JobView,
  timeOrderedId,
} from '@jobline/libs';
import type { AcceptJobs } from './accept-jobs';
import { tenantOf } from './auth';
import { parseCreateJob, toFieldIssues, type JobRequestLimits } from './create-job-request';
import type { JobReader } from './job-reader';
import { jobListRoute } from './job-list-route';
import { queryIssues } from './list-jobs-query';

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
const UrlImport = z.object({ url: z.string().min(1).max(2048) }).strict();

/** An import as `/v1/imports/{id}` shows it: the job, and once its runner has begun, the import's report. */
export const ImportView = JobView.extend({
  report: ImportReport.nullable().describe(
    'counts and the first 100 rejected records; null for books and until it starts',
  ),
});
/** `resource`; for books also what the file may leave out: `title`, `author`, `language`. */
const ImportQuery = z
  .object({
    resource: z.enum([...ImportTarget.options, 'books']),
    title: z.string().optional(),
    author: z.string().optional(),
    language: z.string().optional(),
  })
  .strict()
  .refine((q) => q.resource === 'books' || (q.title ?? q.author ?? q.language) === undefined, {
    message: 'title, author and language are for books only',
    path: ['resource'],
  });

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

async function importView(deps: ImportsRouterDeps, tenantId: string, view: JobView) {
  const report = await readImportReport(deps.data, tenantId, view.id);
  return { ...view, report };
}

/**
 * `/v1/imports`: a multipart upload (`file`) is streamed to the blob store under the tenant's prefix, and a
 * `data.import` job loads it into `users`, `articles` or `comments` (or a `book.import` job makes a book of it); the
 * job's id is the import's id.
 */
export function importsRouter(deps: ImportsRouterDeps): Router {
  const router = Router();

  router.post('/', async (req, res) => {
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
      res
        .status(202)
        .location(`${req.baseUrl}/${view!.id}`)
        .json({ ...view!, report: null });
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
    const { resource, title, author, language } = query.data;
    let request;
    try {
      request =
        resource === 'books'
          ? parseCreateJob({
              type: 'book.import',
              payload: { blobKey: upload.key, format: bookFormat(upload, upload.contentType), title, author, language },
              maxAttempts: 5,
            })
          : parseCreateJob({ type: 'data.import', payload: { resource, blobKey: upload.key }, maxAttempts: 5 });
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
    res
      .status(202)
      .location(`${req.baseUrl}/${view!.id}`)
      .json({ ...view!, report: null });
  });

  router.get('/', jobListRoute(deps.reader, IMPORT_JOB_TYPES));

  router.get('/:id', async (req, res) => {
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
