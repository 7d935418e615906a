import { z } from 'zod';

export const BOOK_EXPORT_FORMATS = ['epub', 'pdf'] as const;
export const BOOK_IMPORT_FORMATS = ['markdown', 'epub'] as const;

/** What the trimmed length of a string means in JSON Schema, which cannot trim: a character, two, that are not blank. */
const NOT_BLANK = '\\S';
const TWO_NOT_BLANK = '\\S[\\s\\S]*\\S';

/**
 * `book.export`: writes one of the tenant's books (the `books` collection) as an EPUB 3 or a PDF to the blob store at
 * `<tenantId>/exports/<jobId>/book.<format>`; the job's result names the key.
 */
export const BookExportPayload = z
  .object({
    /**
     * The book: the id of the import that made it. Not checked for a UUID here: whatever names no book of the tenant's
     * fails the job (`no book …`), as another tenant's book does.
     */
    bookId: z.string().min(1).max(200),
    format: z.enum(BOOK_EXPORT_FORMATS),
  })
  .strict();
export type BookExportPayload = z.infer<typeof BookExportPayload>;

/**
 * `book.import`: reads a Markdown manuscript or an EPUB from the blob store and stores it as a book whose id is the
 * job's id (a rerun rewrites the same book). `title`, `author` and `language` fill in what the file leaves out.
 */
export const BookImportPayload = z
  .object({
    /** The file, under the tenant's own prefix (`<tenantId>/…`), e.g. where `POST /v1/imports` stored an upload. */
    blobKey: z.string().min(1).max(1024),
    format: z.enum(BOOK_IMPORT_FORMATS),
    title: z.string().trim().min(1).max(500).meta({ pattern: NOT_BLANK }).optional(),
    author: z.string().trim().min(1).max(300).meta({ pattern: NOT_BLANK }).optional(),
    /** BCP 47; checked with the book. @defaultValue `en` for a manuscript */
    language: z.string().trim().min(2).max(64).meta({ pattern: TWO_NOT_BLANK }).optional(),
  })
  .strict();
export type BookImportPayload = z.infer<typeof BookImportPayload>;
