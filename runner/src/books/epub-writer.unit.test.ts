import { buffer } from 'node:stream/consumers';
import { DOMParser } from '@xmldom/xmldom';
import yauzl from 'yauzl';
import { chapterFileName, writeEpub } from './epub-writer';
import { SAMPLE_BOOK } from './testing/sample-book';

const OPTIONS = { identifier: '7D2C6F8E-4A4B-4B8E-9A53-2F1D3C5E6A7B', modified: new Date('2025-03-01T10:00:00.123Z') };

async function entries(epub: Buffer): Promise<Map<string, { compressionMethod: number; text: string }>> {
  const zip = await yauzl.fromBufferPromise(epub, { lazyEntries: true });
  const found = new Map<string, { compressionMethod: number; text: string }>();
  for await (const entry of zip.eachEntry()) {
    const text = (await buffer(await zip.openReadStreamPromise(entry))).toString('utf8');
    found.set(entry.fileName, { compressionMethod: entry.compressionMethod, text });
  }
  return found;
}

function parseXml(text: string) {
  return new DOMParser({
    onError: (level, message) => {
      // A warning is not a well-formedness error (xmldom warns of U+FFFD, which the writer puts for a bell).
      if (level !== 'warning') throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(text, 'application/xml');
}

describe('writeEpub', () => {
  let epub: Buffer;
  let files: Map<string, { compressionMethod: number; text: string }>;

  beforeAll(async () => {
    epub = await buffer(writeEpub(SAMPLE_BOOK, OPTIONS));
    files = await entries(epub);
  });

  it('starts the zip with mimetype, stored, with no extra field, saying application/epub+zip', () => {
    // Local file header: signature, version, flags, method at 8, ..., name length at 26, extra length at 28, name at 30.
    expect(epub.readUInt32LE(0)).toBe(0x04034b50);
    expect(epub.readUInt16LE(8)).toBe(0);
    expect(epub.readUInt16LE(26)).toBe('mimetype'.length);
    expect(epub.readUInt16LE(28)).toBe(0);
    expect(epub.subarray(30, 38).toString('ascii')).toBe('mimetype');
    expect(epub.subarray(38, 38 + 20).toString('ascii')).toBe('application/epub+zip');
    expect([...files.keys()][0]).toBe('mimetype');
    expect(files.get('mimetype')).toEqual({ compressionMethod: 0, text: 'application/epub+zip' });
  });

  it('holds the container, the package document, the navigation document and one XHTML file per chapter', () => {
    expect([...files.keys()]).toEqual([
      'mimetype',
      'META-INF/container.xml',
      'OEBPS/content.opf',
      'OEBPS/nav.xhtml',
      'OEBPS/styles.css',
      ...SAMPLE_BOOK.chapters.map((_, i) => `OEBPS/${chapterFileName(i)}`),
    ]);
    expect(files.get('META-INF/container.xml')!.text).toContain('full-path="OEBPS/content.opf"');
  });

  it('describes the book in the package document: identifier, title, creator, language, modified, spine', () => {
    const opf = files.get('OEBPS/content.opf')!.text;
    expect(opf).toContain('<dc:identifier id="book-id">urn:uuid:7d2c6f8e-4a4b-4b8e-9a53-2f1d3c5e6a7b</dc:identifier>');
    expect(opf).toContain('<dc:title>The Pipeline &amp; the Log</dc:title>');
    expect(opf).toContain('<dc:creator>Ada Q. Writer</dc:creator>');
    expect(opf).toContain('<dc:language>en-GB</dc:language>');
    expect(opf).toContain('<meta property="dcterms:modified">2025-03-01T10:00:00Z</meta>');
    const spine = Array.from(parseXml(opf).getElementsByTagName('itemref')).map((ref) => ref.getAttribute('idref'));
    expect(spine).toEqual(['chapter-1', 'chapter-2', 'chapter-3']);
  });

  it('lists every chapter in the navigation document, titles escaped', () => {
    const nav = parseXml(files.get('OEBPS/nav.xhtml')!.text);
    const links = Array.from(nav.getElementsByTagName('a')).map((a) => [a.getAttribute('href'), a.textContent]);
    expect(links).toEqual(SAMPLE_BOOK.chapters.map((chapter, i) => [chapterFileName(i), chapter.title]));
  });

  it('writes well-formed XHTML chapters, with raw HTML in the Markdown as text', () => {
    for (let i = 0; i < SAMPLE_BOOK.chapters.length; i++) {
      const text = files.get(`OEBPS/${chapterFileName(i)}`)!.text;
      const doc = parseXml(text);
      expect(doc.getElementsByTagName('h1')[0]!.textContent).toBe(SAMPLE_BOOK.chapters[i]!.title);
      expect(doc.getElementsByTagName('script')).toHaveLength(0);
    }
    expect(files.get(`OEBPS/${chapterFileName(0)}`)!.text).toContain('&lt;script&gt;alert(&quot;x&quot;)');
  });

  it('is the same bytes for the same book and options', async () => {
    expect((await buffer(writeEpub(SAMPLE_BOOK, OPTIONS))).equals(epub)).toBe(true);
  });

  it('refuses an identifier that is not a UUID', () => {
    expect(() => writeEpub(SAMPLE_BOOK, { ...OPTIONS, identifier: 'book-1' })).toThrow(/UUID/);
  });
});
