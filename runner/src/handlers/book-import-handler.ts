import { BookImportPayload, JoblineError } from '@jobline/libs';
import type { Readable } from 'node:stream';
import type { Book } from '../books/book';
import { saveBook } from '../books/book-store';
import { importEpub } from '../books/import-epub';
import { importManuscript } from '../books/import-manuscript';
import type { BookHandlerDeps } from './book-export-handler';
import type { JobHandler } from './job-handler';

/** The largest file a `book.import` reads: an EPUB is read whole, since a zip's directory is at its end. */
export const BOOK_IMPORT_MAX_BYTES = 64 * 1024 * 1024;

/** What a completed `book.import` job records as its result. */
export interface BookImportResult {
  bookId: string;
  title: string;
  chapters: number;
}

/**
 * Reads a Markdown manuscript or an EPUB from the tenant's part of the blob store and stores it as the book whose id
 * is the job's id, so a rerun after a crash rewrites the same book rather than adding one. A file outside the tenant's
 * prefix, too large or not a book fails the job for good (VALIDATION_FAILED), a missing one too (BLOB_NOT_FOUND).
 */
export function createBookImportHandler(deps: BookHandlerDeps): JobHandler {
  const now = deps.now ?? (() => new Date());
  return async (job, ctx) => {
    const { blobKey, format, ...defaults } = BookImportPayload.parse(job.payload);
    if (!blobKey.startsWith(`${job.tenantId}/`)) {
      throw invalidBlob(blobKey, "the file must be under the tenant's own prefix");
    }
    const info = await deps.blobs.stat(blobKey);
    if (!info) throw new JoblineError('BLOB_NOT_FOUND', `no blob ${JSON.stringify(blobKey)} to import`);
    if (info.bytes > BOOK_IMPORT_MAX_BYTES) {
      throw invalidBlob(blobKey, `${info.bytes} bytes; at most ${BOOK_IMPORT_MAX_BYTES} are read`);
    }
    ctx.progress(0, 1, `reading ${format}`);
    const bytes = await readAll(await deps.blobs.get(blobKey), ctx.signal);
    const book: Book =
      format === 'epub' ? await importEpub(bytes, defaults) : importManuscript(bytes.toString('utf8'), defaults);
    ctx.signal.throwIfAborted();
    await saveBook(deps.books, { tenantId: job.tenantId, bookId: job.id, book, now: now() });
    ctx.progress(1, 1, null);
    const result: BookImportResult = { bookId: job.id, title: book.title, chapters: book.chapters.length };
    return { result };
  };
}

async function readAll(stream: Readable, signal: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      signal.throwIfAborted();
      length += (chunk as Buffer).length;
      // The size was checked before; a blob that grew since is refused rather than read without bound.
      if (length > BOOK_IMPORT_MAX_BYTES) throw new JoblineError('VALIDATION_FAILED', 'the file grew past the bound');
      chunks.push(chunk as Buffer);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}

function invalidBlob(blobKey: string, problem: string): JoblineError {
  return new JoblineError('VALIDATION_FAILED', `cannot import ${JSON.stringify(blobKey)}: ${problem}`, {
    details: [{ field: 'payload.blobKey', code: 'invalid_value', message: problem }],
  });
}
