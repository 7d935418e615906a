import { BookExportPayload, JoblineError, type BlobStore } from '@jobline/libs';
import type { Collection } from 'mongodb';
import { parseBook } from '../books/book';
import { type BookDocument, findBook } from '../books/book-store';
import { EPUB_MEDIA_TYPE, writeEpub } from '../books/epub-writer';
import { writePdf } from '../books/pdf-writer';
import type { JobHandler } from './job-handler';

export interface BookHandlerDeps {
  books: Collection<BookDocument>;
  blobs: BlobStore;
  /** When an imported book is written. @defaultValue `() => new Date()` */
  now?: () => Date;
}

/** What a completed `book.export` job records as its result. */
export interface BookExportResult {
  bookId: string;
  format: BookExportPayload['format'];
  blobKey: string;
  bytes: number;
  contentType: string;
  chapters: number;
}

const CONTENT_TYPES = { epub: EPUB_MEDIA_TYPE, pdf: 'application/pdf' } as const;

/**
 * Writes one of the tenant's books as an EPUB 3 or a PDF to `<tenantId>/exports/<jobId>/book.<format>`. A rerun
 * writes the same key again; the file is a function of the book and its last change (EPUB identifier = book id,
 * dates = `updatedAt`), so a rerun of an unchanged book writes the same bytes.
 */
export function createBookExportHandler(deps: BookHandlerDeps): JobHandler {
  return async (job, ctx) => {
    const { bookId, format } = BookExportPayload.parse(job.payload);
    const stored = await findBook(deps.books, job.tenantId, bookId);
    if (!stored) {
      throw new JoblineError('VALIDATION_FAILED', `no book ${bookId}`, {
        details: [{ field: 'payload.bookId', code: 'not_found', message: 'no such book' }],
      });
    }
    const book = parseBook(
      { title: stored.title, author: stored.author, language: stored.language, chapters: stored.chapters },
      `book ${bookId}`,
    );
    ctx.progress(0, 1, `writing ${format}`);
    ctx.signal.throwIfAborted();
    const modified = stored.updatedAt;
    const file = format === 'epub' ? writeEpub(book, { identifier: bookId, modified }) : writePdf(book, { modified });
    const onAbort = () => file.destroy(ctx.signal.reason);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const blobKey = `${job.tenantId}/exports/${job.id}/book.${format}`;
      const info = await deps.blobs.put(blobKey, file, { contentType: CONTENT_TYPES[format] });
      ctx.progress(1, 1, null);
      const result: BookExportResult = {
        bookId,
        format,
        blobKey: info.key,
        bytes: info.bytes,
        contentType: info.contentType,
        chapters: book.chapters.length,
      };
      return { result };
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  };
}
