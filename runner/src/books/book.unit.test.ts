import { JoblineError } from '@jobline/libs';
import { BOOK_LIMITS, Book, parseBook } from './book';

const chapter = { title: 'One', markdown: 'Text.' };
const book = { title: 'Title', author: 'Author', language: 'en', chapters: [chapter] };

describe('Book', () => {
  it('accepts well-formed BCP 47 tags and keeps them in canonical case', () => {
    expect(Book.parse({ ...book, language: 'EN-us' }).language).toBe('en-US');
    expect(Book.parse({ ...book, language: 'zh-hant-tw' }).language).toBe('zh-Hant-TW');
    expect(Book.parse({ ...book, language: 'sr-Latn' }).language).toBe('sr-Latn');
  });

  it.each(['en_US', 'en us', 'e', '12', 'en-', 'en--GB'])('rejects the language %p', (language) => {
    expect(Book.safeParse({ ...book, language }).success).toBe(false);
  });

  it('bounds the chapters: at least one, at most maxChapters, each and all of bounded length', () => {
    expect(Book.safeParse({ ...book, chapters: [] }).success).toBe(false);
    const many = Array.from({ length: BOOK_LIMITS.maxChapters + 1 }, () => chapter);
    expect(Book.safeParse({ ...book, chapters: many }).success).toBe(false);
    const long = { title: 'Long', markdown: 'x'.repeat(BOOK_LIMITS.maxChapterLength + 1) };
    expect(Book.safeParse({ ...book, chapters: [long] }).success).toBe(false);
    const full = { title: 'Full', markdown: 'x'.repeat(BOOK_LIMITS.maxChapterLength) };
    const count = Math.floor(BOOK_LIMITS.maxBookLength / BOOK_LIMITS.maxChapterLength) + 1;
    const result = Book.safeParse({ ...book, chapters: Array.from({ length: count }, () => full) });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/at most 10000000 are allowed/);
  });

  it('trims titles and refuses blank ones and unknown fields', () => {
    expect(Book.parse({ ...book, title: '  Title  ' }).title).toBe('Title');
    expect(Book.safeParse({ ...book, chapters: [{ title: '   ', markdown: '' }] }).success).toBe(false);
    expect(Book.safeParse({ ...book, cover: 'x' }).success).toBe(false);
  });
});

describe('parseBook', () => {
  it('throws a non-retryable VALIDATION_FAILED naming every offending field', () => {
    try {
      parseBook({ ...book, author: '', chapters: [chapter, { title: '', markdown: 'x' }] }, 'the upload');
      throw new Error('expected a rejection');
    } catch (err) {
      expect(err).toBeInstanceOf(JoblineError);
      const error = err as JoblineError;
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.retryable).toBe(false);
      expect(error.message).toMatch(/^the upload is not a valid book: author: /);
      expect(error.details.map((d) => d.field)).toEqual(['author', 'chapters.1.title']);
    }
  });
});
