import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';
import { writeEpub } from './epub-writer';
import { importManuscript } from './import-manuscript';
import { epubcheck } from './testing/epubcheck';
import { SAMPLE_BOOK } from './testing/sample-book';

// EPUBCheck starts a JVM and loads its schemas: tens of seconds on a busy two-core machine.
jest.setTimeout(300_000);

describe('writeEpub under EPUBCheck', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jobline-epub-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an EPUB 3 that EPUBCheck passes with no fatal error, no error and no warning', async () => {
    const file = join(dir, 'sample.epub');
    const modified = new Date('2025-03-01T10:00:00Z');
    await pipeline(
      writeEpub(SAMPLE_BOOK, { identifier: '7d2c6f8e-4a4b-4b8e-9a53-2f1d3c5e6a7b', modified }),
      createWriteStream(file),
    );
    const report = await epubcheck(file);
    expect(report.messages.filter((m) => m.severity !== 'INFO' && m.severity !== 'USAGE')).toEqual([]);
    expect(report.checker).toMatchObject({ nFatal: 0, nError: 0, nWarning: 0 });
    expect(report.publication).toMatchObject({
      title: SAMPLE_BOOK.title,
      creator: [SAMPLE_BOOK.author],
      language: 'en-GB',
      identifier: 'urn:uuid:7d2c6f8e-4a4b-4b8e-9a53-2f1d3c5e6a7b',
      nSpines: SAMPLE_BOOK.chapters.length,
    });
  });

  it('passes EPUBCheck for a book imported from a manuscript in a right-to-left language', async () => {
    const book = importManuscript(
      '---\ntitle: كتاب\nauthor: كاتب\nlanguage: ar\n---\n# الفصل الأول\n\nنص *الفصل*.\n\n# الفصل الثاني\n\n1. أ\n2. ب\n',
    );
    const file = join(dir, 'arabic.epub');
    await pipeline(
      writeEpub(book, {
        identifier: '0f8e3c1a-2b4d-4e6f-8a0b-1c2d3e4f5a6b',
        modified: new Date('2025-03-01T10:00:00Z'),
      }),
      createWriteStream(file),
    );
    const report = await epubcheck(file);
    expect(report.messages.filter((m) => m.severity !== 'INFO' && m.severity !== 'USAGE')).toEqual([]);
    expect(report.checker).toMatchObject({ nFatal: 0, nError: 0, nWarning: 0 });
    expect(report.publication.nSpines).toBe(2);
  });

  it('reports errors for a broken EPUB, so that the passes above mean something', async () => {
    const zip = new ZipFile();
    zip.addBuffer(Buffer.from('application/epub+zip'), 'mimetype', { compress: false });
    zip.addBuffer(
      Buffer.from(
        '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">' +
          '<rootfiles><rootfile full-path="OEBPS/missing.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
      ),
      'META-INF/container.xml',
    );
    zip.end();
    const file = join(dir, 'broken.epub');
    await pipeline(zip.outputStream, createWriteStream(file));
    const report = await epubcheck(file);
    expect(report.checker.nFatal + report.checker.nError).toBeGreaterThan(0);
    // OPF-002: the package document the container names is not in the zip.
    expect(report.messages.map((m) => m.ID)).toContain('OPF-002');
  });
});
