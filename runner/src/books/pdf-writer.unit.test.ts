import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { Book } from './book';
import { toWinAnsi, writePdf } from './pdf-writer';
import { inspectPdf, type PdfSummary } from './testing/inspect-pdf';
import { SAMPLE_BOOK } from './testing/sample-book';

const MODIFIED = new Date('2025-03-01T10:00:00Z');

describe('writePdf', () => {
  let dir: string;
  let pdf: Buffer;
  let summary: PdfSummary;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jobline-pdf-'));
    pdf = await buffer(writePdf(SAMPLE_BOOK, { modified: MODIFIED }));
    writeFileSync(join(dir, 'book.pdf'), pdf);
    summary = await inspectPdf(join(dir, 'book.pdf'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses as a PDF with a title page, one page for each short chapter and four for the long one', () => {
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    // Title page, chapter 1, chapter 2, chapter 3 over four pages: fixed for this book, page size and fonts.
    expect(summary.pageCount).toBe(7);
  });

  it('opens the title page with the title and the author, unnumbered', () => {
    expect(summary.pages[0]).toBe(`${SAMPLE_BOOK.title} ${SAMPLE_BOOK.author}`);
  });

  it('starts every chapter on a new page with its title', () => {
    const starts = SAMPLE_BOOK.chapters.map((chapter) => summary.pages.findIndex((p) => p.startsWith(chapter.title)));
    expect(starts).toEqual([1, 2, 3]);
  });

  it('numbers every page after the title page in its footer', () => {
    summary.pages.slice(1).forEach((text, index) => expect(text).toMatch(new RegExp(` ${index + 2}$`)));
  });

  it('has one outline entry per chapter, in order', () => {
    expect(summary.outline).toEqual(SAMPLE_BOOK.chapters.map((chapter) => chapter.title));
  });

  it('carries the title, the author and the language as document metadata', () => {
    expect(summary.info).toMatchObject({ Title: SAMPLE_BOOK.title, Author: SAMPLE_BOOK.author, Language: 'en-GB' });
  });

  it('lays out the Markdown as text, not as markup: emphasis, lists, quotes, code, tables, raw HTML as text', () => {
    const chapterOne = summary.pages[1]!;
    expect(chapterOne).toContain('Every change is an event ; the state is a fold of them.');
    expect(chapterOne).toContain('<script>alert("x")</script>');
    expect(chapterOne).toContain('• first point');
    expect(chapterOne).toContain('1. nested one 2. nested two');
    expect(chapterOne).toContain('A quotation, set apart. It spans two lines.');
    expect(chapterOne).toContain('const state = events.reduce(evolve, initialState());');
    expect(chapterOne).not.toMatch(/\*\*|```|^#/);
    const chapterTwo = summary.pages[2]!;
    expect(chapterTwo).toContain('term | meaning key | the job id');
    expect(chapterTwo).toContain('3. three 4. four');
    expect(chapterTwo).toContain('Grüße, naïve café — “quoted”');
  });

  it('is the same bytes for the same book and date', async () => {
    expect((await buffer(writePdf(SAMPLE_BOOK, { modified: MODIFIED }))).equals(pdf)).toBe(true);
  });

  it('grows by pages, not by lost text, when a chapter is long', async () => {
    const long = Book.parse({
      ...SAMPLE_BOOK,
      chapters: [{ title: 'Long', markdown: Array.from({ length: 200 }, (_, i) => `Line ${i + 1}.`).join('\n\n') }],
    });
    writeFileSync(join(dir, 'long.pdf'), await buffer(writePdf(long, { modified: MODIFIED })));
    const { pageCount, pages, outline } = await inspectPdf(join(dir, 'long.pdf'));
    expect(pageCount).toBeGreaterThan(5);
    expect(outline).toEqual(['Long']);
    const text = pages.join(' ');
    for (let i = 1; i <= 200; i++) expect(text).toContain(`Line ${i}.`);
  });
});

describe('writePdf with embedded fonts', () => {
  it('shows text beyond Windows-1252 when given fonts that cover it', async () => {
    // pdf.js ships the Liberation fonts (SIL Open Font License), which cover Latin, Greek and Cyrillic.
    const font = (style: string) => require.resolve(`pdfjs-dist/standard_fonts/LiberationSans-${style}.ttf`);
    const fonts = {
      regular: font('Regular'),
      bold: font('Bold'),
      italic: font('Italic'),
      boldItalic: font('BoldItalic'),
      mono: font('Regular'),
    };
    const book = Book.parse({
      title: 'Война и мир',
      author: 'Лев Толстой',
      language: 'ru',
      chapters: [{ title: 'Часть первая', markdown: 'Ну, князь, Генуя и *Лукка*. Καλημέρα.' }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'jobline-pdf-'));
    try {
      writeFileSync(join(dir, 'ru.pdf'), await buffer(writePdf(book, { modified: MODIFIED, fonts })));
      const { pages, outline } = await inspectPdf(join(dir, 'ru.pdf'));
      expect(pages[0]).toBe('Война и мир Лев Толстой');
      expect(pages[1]).toMatch(/^Часть первая Ну, князь, Генуя и Лукка ?\. Καλημέρα\. 2$/);
      expect(outline).toEqual(['Часть первая']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('toWinAnsi', () => {
  it('keeps Windows-1252 text and marks what the standard fonts cannot show', () => {
    expect(toWinAnsi('Grüße — “ok” € … 日本\u0007')).toBe('Grüße — “ok” € … ???');
  });
});
