import type { Collection, Db } from 'mongodb';
import type { Book } from './book';

/** A tenant's book in the `books` collection: the book itself, its tenant, and when it was created and last written. */
export interface BookDocument extends Book {
  /** A UUID: also the EPUB's identifier, so that every export of the book is the same publication to a reader. */
  _id: string;
  tenantId: string;
  createdAt: Date;
  updatedAt: Date;
}

export function booksCollection(db: Db): Collection<BookDocument> {
  return db.collection<BookDocument>('books');
}

export async function ensureBookIndexes(books: Collection<BookDocument>): Promise<void> {
  await books.createIndex({ tenantId: 1, updatedAt: 1 });
}

/** The tenant's book, or null: another tenant's book with the same id is not found, as guarantee 6 asks. */
export async function findBook(
  books: Collection<BookDocument>,
  tenantId: string,
  bookId: string,
): Promise<BookDocument | null> {
  return books.findOne({ _id: bookId, tenantId });
}

/** Writes `book` under `bookId` for the tenant; writing it again (a rerun) replaces it and keeps `createdAt`. */
export async function saveBook(
  books: Collection<BookDocument>,
  input: { tenantId: string; bookId: string; book: Book; now: Date },
): Promise<void> {
  const { title, author, language, chapters } = input.book;
  await books.updateOne(
    { _id: input.bookId, tenantId: input.tenantId },
    {
      $set: { title, author, language, chapters, updatedAt: input.now },
      $setOnInsert: { createdAt: input.now },
    },
    { upsert: true },
  );
}
