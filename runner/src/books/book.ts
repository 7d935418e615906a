import { JoblineError } from '@jobline/libs';
import { z } from 'zod';

/**
 * Bounds of a book. They keep one export within what a runner holds comfortably in memory (the PDF writer buffers
 * its pages to number them) and one import within a request body's reach.
 */
export const BOOK_LIMITS = {
  maxTitleLength: 500,
  maxAuthorLength: 300,
  maxChapters: 500,
  maxChapterTitleLength: 300,
  /** Characters of Markdown in one chapter. */
  maxChapterLength: 1_000_000,
  /** Characters of Markdown in the whole book. */
  maxBookLength: 10_000_000,
} as const;

/** A language tag is accepted when it is well-formed BCP 47; it is kept in its canonical case (`en-us` → `en-US`). */
export const LanguageTag = z
  .string()
  .trim()
  .min(2)
  .max(64)
  .transform((tag, ctx) => {
    try {
      const [canonical] = Intl.getCanonicalLocales(tag);
      if (canonical) return canonical;
    } catch {
      // RangeError: not a well-formed tag; reported below.
    }
    ctx.addIssue({ code: 'custom', message: `not a BCP 47 language tag: '${tag}'` });
    return z.NEVER;
  });

export const BookChapter = z
  .object({
    /** Plain text, shown in the table of contents, the PDF outline and above the chapter. */
    title: z.string().trim().min(1).max(BOOK_LIMITS.maxChapterTitleLength),
    /** The chapter's body in Markdown (CommonMark with GFM tables and strikethrough); raw HTML is shown as text. */
    markdown: z.string().max(BOOK_LIMITS.maxChapterLength),
  })
  .strict();
export type BookChapter = z.infer<typeof BookChapter>;

export const Book = z
  .object({
    title: z.string().trim().min(1).max(BOOK_LIMITS.maxTitleLength),
    author: z.string().trim().min(1).max(BOOK_LIMITS.maxAuthorLength),
    /** BCP 47, e.g. `en`, `fr-CA`, `zh-Hant`. */
    language: LanguageTag,
    chapters: z.array(BookChapter).min(1).max(BOOK_LIMITS.maxChapters),
  })
  .strict()
  .superRefine((book, ctx) => {
    const length = book.chapters.reduce((sum, chapter) => sum + chapter.markdown.length, 0);
    if (length > BOOK_LIMITS.maxBookLength) {
      ctx.addIssue({
        code: 'custom',
        path: ['chapters'],
        message: `the chapters hold ${length} characters of Markdown; at most ${BOOK_LIMITS.maxBookLength} are allowed`,
      });
    }
  });
export type Book = z.infer<typeof Book>;
export type BookInput = z.input<typeof Book>;

/** What an imported file may leave out, supplied by whoever imports it (the import request). */
export interface BookDefaults {
  title?: string;
  author?: string;
  language?: string;
}

/**
 * Parses a book, or throws `VALIDATION_FAILED` (not retryable) whose details name each offending field, e.g.
 * `chapters.2.title`. `what` names the source in the message: `the manuscript`, `the EPUB`.
 */
export function parseBook(input: unknown, what = 'the book'): Book {
  const result = Book.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    field: issue.path.map(String).join('.') || '(book)',
    message: issue.message,
    code: issue.code,
  }));
  const first = details[0]!;
  throw new JoblineError('VALIDATION_FAILED', `${what} is not a valid book: ${first.field}: ${first.message}`, {
    details,
  });
}
