import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { connectMongo, createFileBlobStore, type BlobStore, type MongoConnection } from '@jobline/libs';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import type { Collection } from 'mongodb';
import { type BookDocument, booksCollection, ensureBookIndexes, saveBook } from '../books/book-store';
import { writeEpub } from '../books/epub-writer';
import { importEpub } from '../books/import-epub';
import { inspectPdf } from '../books/testing/inspect-pdf';
import { SAMPLE_BOOK } from '../books/testing/sample-book';
import { createBookExportHandler, type BookExportResult } from './book-export-handler';
import { createBookImportHandler, type BookImportResult } from './book-import-handler';
import { handlerContext, jobFailure, requestedJob } from './testing/handler-fixtures';

const TENANT = 'acme';
const T0 = new Date('2026-03-01T12:00:00.000Z');
const job = (type: string, payload: unknown, tenantId = TENANT) => requestedJob(type, payload, { tenantId, now: T0 });

describe('book handlers against MongoDB and the file blob store', () => {
  const ns = testNamespace();
  let mongo: MongoConnection;
  let books: Collection<BookDocument>;
  let dir: string;
  let blobStore: BlobStore;
  const bookId = randomUUID();

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    books = booksCollection(mongo.db);
    await ensureBookIndexes(books);
    dir = mkdtempSync(join(tmpdir(), 'jobline-books-'));
    blobStore = createFileBlobStore({ root: dir });
    await saveBook(books, { tenantId: TENANT, bookId, book: SAMPLE_BOOK, now: T0 });
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const handlers = () => ({
    exportBook: createBookExportHandler({ books, blobs: blobStore }),
    importBook: createBookImportHandler({ books, blobs: blobStore, now: () => T0 }),
  });

  it('exports a stored book as an EPUB to the tenant’s exports, identified by the book id', async () => {
    const exportJob = job('book.export', { bookId, format: 'epub' });
    const { result } = await handlers().exportBook(exportJob, handlerContext());
    const blobKey = `${TENANT}/exports/${exportJob.id}/book.epub`;
    expect(result).toEqual({
      bookId,
      format: 'epub',
      blobKey,
      bytes: expect.any(Number),
      contentType: 'application/epub+zip',
      chapters: 3,
    } satisfies BookExportResult);
    const epub = await buffer(await blobStore.get(blobKey));
    expect(epub.length).toBe((result as BookExportResult).bytes);
    expect(epub.equals(await buffer(writeEpub(SAMPLE_BOOK, { identifier: bookId, modified: T0 })))).toBe(true);
    expect((await importEpub(epub)).chapters.map((c) => c.title)).toEqual(SAMPLE_BOOK.chapters.map((c) => c.title));
  });

  it('exports a stored book as a PDF', async () => {
    const exportJob = job('book.export', { bookId, format: 'pdf' });
    const { result } = await handlers().exportBook(exportJob, handlerContext());
    const { blobKey, contentType } = result as BookExportResult;
    expect(contentType).toBe('application/pdf');
    writeFileSync(join(dir, 'check.pdf'), await buffer(await blobStore.get(blobKey)));
    const pdf = await inspectPdf(join(dir, 'check.pdf'));
    expect(pdf.pageCount).toBe(7);
    expect(pdf.outline).toEqual(SAMPLE_BOOK.chapters.map((c) => c.title));
  });

  it('does not find another tenant’s book, nor a missing one, and fails for good', async () => {
    for (const exportJob of [
      job('book.export', { bookId, format: 'epub' }, 'other-tenant'),
      job('book.export', { bookId: randomUUID(), format: 'pdf' }),
      // Not a UUID, as no book id is: the book is missing all the same.
      job('book.export', { bookId: '123', format: 'epub' }),
    ]) {
      const error = await jobFailure(handlers().exportBook(exportJob, handlerContext()));
      expect(error).toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(error.details[0]?.field).toBe('payload.bookId');
    }
  });

  it('imports a manuscript from the blob store as the book with the job’s id; a rerun rewrites it', async () => {
    const blobKey = `${TENANT}/uploads/${randomUUID()}/manuscript.md`;
    await blobStore.put(blobKey, '# The Log\n\n## Events\n\nEvery change.\n\n## Partitions\n\nKeys.\n');
    const importJob = job('book.import', { blobKey, format: 'markdown', author: 'Ada', language: 'en-gb' });
    const first = await handlers().importBook(importJob, handlerContext());
    expect(first.result).toEqual({ bookId: importJob.id, title: 'The Log', chapters: 2 } satisfies BookImportResult);
    await handlers().importBook(importJob, handlerContext());
    expect(await books.countDocuments({ _id: importJob.id })).toBe(1);
    expect(await books.findOne({ _id: importJob.id })).toEqual({
      _id: importJob.id,
      tenantId: TENANT,
      title: 'The Log',
      author: 'Ada',
      language: 'en-GB',
      chapters: [
        { title: 'Events', markdown: 'Every change.' },
        { title: 'Partitions', markdown: 'Keys.' },
      ],
      createdAt: T0,
      updatedAt: T0,
    });
  });

  it('imports an exported EPUB back into a book', async () => {
    const blobKey = `${TENANT}/uploads/${randomUUID()}/book.epub`;
    await blobStore.put(blobKey, await buffer(writeEpub(SAMPLE_BOOK, { identifier: bookId, modified: T0 })));
    const importJob = job('book.import', { blobKey, format: 'epub' });
    expect((await handlers().importBook(importJob, handlerContext())).result).toEqual({
      bookId: importJob.id,
      title: SAMPLE_BOOK.title,
      chapters: 3,
    });
    const stored = await books.findOne({ _id: importJob.id, tenantId: TENANT });
    expect(stored?.chapters.map((c) => c.title)).toEqual(SAMPLE_BOOK.chapters.map((c) => c.title));
  });

  it('refuses a file of another tenant, a missing file and a file that is not a book, for good', async () => {
    const notEpub = `${TENANT}/uploads/${randomUUID()}/notes.epub`;
    await blobStore.put(notEpub, 'plain text');
    const cases: [unknown, string, RegExp][] = [
      [{ blobKey: `other-tenant/uploads/x.md`, format: 'markdown' }, 'VALIDATION_FAILED', /tenant's own prefix/],
      [{ blobKey: `${TENANT}/uploads/missing.md`, format: 'markdown' }, 'BLOB_NOT_FOUND', /no blob/],
      [{ blobKey: notEpub, format: 'epub' }, 'VALIDATION_FAILED', /not an EPUB: not a zip archive/],
    ];
    for (const [payload, code, message] of cases) {
      const error = await jobFailure(handlers().importBook(job('book.import', payload), handlerContext()));
      expect(error).toMatchObject({ code, retryable: false, message: expect.stringMatching(message) });
    }
  });
});
