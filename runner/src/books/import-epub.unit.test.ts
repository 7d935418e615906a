import { buffer } from 'node:stream/consumers';
import { ZipFile } from 'yazl';
import { Book } from './book';
import { writeEpub } from './epub-writer';
import { importEpub } from './import-epub';
import { renderMarkdownToXhtml } from './render-markdown';
import { SAMPLE_BOOK } from './testing/sample-book';

const OPTIONS = { identifier: '7d2c6f8e-4a4b-4b8e-9a53-2f1d3c5e6a7b', modified: new Date('2025-03-01T10:00:00Z') };

/**
 * What a reader sees of a chapter: its Markdown rendered, whitespace between and inside lines collapsed, images as
 * their alternative text (which the writer puts in place of images).
 */
function rendered(markdown: string): string {
  return renderMarkdownToXhtml(markdown)
    .replace(/<span class="image-alt">([^<]*)<\/span>/g, '$1')
    .replace(/>\s+</g, '><')
    .replace(/\s+/g, ' ')
    .trim();
}

async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new ZipFile();
  for (const [name, text] of Object.entries(files)) {
    zip.addBuffer(Buffer.from(text), name, { compress: name !== 'mimetype' });
  }
  zip.end();
  return buffer(zip.outputStream);
}

const CONTAINER = `<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="content/book.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>`;

function xhtml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.1//EN" "http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Page</title></head><body>${body}</body></html>`;
}

/** An EPUB 2 as older tools wrote it: an NCX table of contents, a cover page, named entities, files in folders. */
const EPUB2 = {
  mimetype: 'application/epub+zip',
  'META-INF/container.xml': CONTAINER,
  'content/book.opf': `<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:title>Old  Book</dc:title><dc:creator>First Author</dc:creator><dc:creator>Second Author</dc:creator>
    <dc:language>en-us</dc:language><dc:identifier id="id">isbn-1</dc:identifier>
  </metadata>
  <manifest>
    <item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
    <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="c2" href="text/chapter%20two.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>
    <item id="img" href="images/cover.png" media-type="image/png"/>
  </manifest>
  <spine toc="ncx"><itemref idref="cover"/><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>`,
  'content/toc.ncx': `<?xml version="1.0"?>
<ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>
  <navPoint id="n1"><navLabel><text>Chapter One</text></navLabel><content src="text/one.xhtml"/></navPoint>
  <navPoint id="n2"><navLabel><text>Chapter Two</text></navLabel><content src="text/chapter%20two.xhtml#start"/></navPoint>
</navMap></ncx>`,
  'content/text/cover.xhtml': xhtml('<div><img src="../images/cover.png" alt=""/></div>'),
  'content/images/cover.png': 'not really a PNG',
  'content/text/one.xhtml': xhtml(
    '<h2>Chapter One</h2><p>It was&nbsp;a <i>dark</i> night.<a id="x"/> Then:</p><p><img src="../images/map.png" alt="A map"/> dawn.</p>',
  ),
  'content/text/chapter two.xhtml': xhtml('<h1 id="start">Two</h1><ul><li>a</li><li><b>b</b></li></ul>'),
};

describe('importEpub', () => {
  it('round-trips an exported EPUB: title, author, language, chapter titles and text', async () => {
    const epub = await buffer(writeEpub(SAMPLE_BOOK, OPTIONS));
    const book = await importEpub(epub);
    expect(book.title).toBe(SAMPLE_BOOK.title);
    expect(book.author).toBe(SAMPLE_BOOK.author);
    expect(book.language).toBe(SAMPLE_BOOK.language);
    expect(book.chapters.map((c) => c.title)).toEqual(SAMPLE_BOOK.chapters.map((c) => c.title));
    book.chapters.forEach((chapter, i) => {
      expect(rendered(chapter.markdown)).toBe(rendered(SAMPLE_BOOK.chapters[i]!.markdown));
    });
    // The chapter heading the writer adds is not repeated in the body.
    expect(book.chapters[0]!.markdown).not.toContain(SAMPLE_BOOK.chapters[0]!.title);
    expect(Book.parse(book)).toEqual(book);
  });

  it('reads from a file path as well as from bytes', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'jobline-epub-'));
    try {
      writeFileSync(join(dir, 'book.epub'), await buffer(writeEpub(SAMPLE_BOOK, OPTIONS)));
      expect((await importEpub({ path: join(dir, 'book.epub') })).chapters).toHaveLength(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an EPUB 2 in spine order, titles from its NCX, skipping the cover', async () => {
    const book = await importEpub(await zipOf(EPUB2));
    expect(book).toEqual({
      title: 'Old Book',
      author: 'First Author, Second Author',
      language: 'en-US',
      chapters: [
        { title: 'Chapter One', markdown: 'It was\u00a0a *dark* night. Then:\n\n\\[A map\\] dawn.' },
        { title: 'Chapter Two', markdown: '# Two\n\n-   a\n-   **b**' },
      ],
    });
  });

  it('falls back to a document’s first heading when the table of contents lacks it', async () => {
    const ncx = EPUB2['content/toc.ncx'].replace(/<navPoint id="n2">.*<\/navPoint>/, '');
    const book = await importEpub(await zipOf({ ...EPUB2, 'content/toc.ncx': ncx }));
    expect(book.chapters[1]).toEqual({ title: 'Two', markdown: '-   a\n-   **b**' });
  });

  it('fills in a title, creator or language the package lacks from the defaults, and only those', async () => {
    const opf = EPUB2['content/book.opf']
      .replace(/<dc:creator>[^<]*<\/dc:creator>/g, '')
      .replace('<dc:language>en-us</dc:language>', '');
    const book = await importEpub(await zipOf({ ...EPUB2, 'content/book.opf': opf }), {
      title: 'Ignored',
      author: 'Imported By',
      language: 'de',
    });
    expect(book).toMatchObject({ title: 'Old Book', author: 'Imported By', language: 'de' });
  });

  it('rejects what is not a zip', async () => {
    await expect(importEpub(Buffer.from('%PDF-1.7 not a zip'))).rejects.toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', message: expect.stringMatching(/^not an EPUB: not a zip/) }),
    );
  });

  it('rejects a zip that is not an EPUB', async () => {
    await expect(importEpub(await zipOf({ 'data.csv': 'a,b\n1,2\n' }))).rejects.toThrow(
      "not an EPUB: the zip has no 'mimetype' entry saying application/epub+zip",
    );
    await expect(importEpub(await zipOf({ mimetype: 'application/zip' }))).rejects.toThrow(/no 'mimetype' entry/);
  });

  it('rejects an EPUB whose parts are missing or malformed, naming the part', async () => {
    const { 'META-INF/container.xml': _container, ...noContainer } = EPUB2;
    await expect(importEpub(await zipOf(noContainer))).rejects.toThrow('the EPUB lacks META-INF/container.xml');
    await expect(
      importEpub(await zipOf({ ...EPUB2, 'content/text/one.xhtml': '<html><body><p>unclosed</body></html>' })),
    ).rejects.toThrow(/the EPUB's content\/text\/one.xhtml is not well-formed XML/);
    const { 'content/text/one.xhtml': _one, ...noChapter } = EPUB2;
    await expect(importEpub(await zipOf(noChapter))).rejects.toThrow(
      'the EPUB lacks content/text/one.xhtml, which its package names',
    );
  });

  it('rejects a truncated zip', async () => {
    const epub = await buffer(writeEpub(SAMPLE_BOOK, OPTIONS));
    await expect(importEpub(epub.subarray(0, epub.length - 30))).rejects.toThrow(/^not an EPUB: not a zip archive/);
  });

  it('refuses an entry that inflates beyond the bound, before inflating it', async () => {
    const huge = 'x'.repeat(17 * 1024 * 1024);
    await expect(importEpub(await zipOf({ ...EPUB2, 'content/text/one.xhtml': huge }))).rejects.toThrow(
      /content\/text\/one.xhtml inflates to 17825792 bytes, more than allowed/,
    );
  });

  it('rejects an EPUB that does not make a valid book, naming the field', async () => {
    const opf = EPUB2['content/book.opf'].replace('<dc:language>en-us</dc:language>', '');
    await expect(importEpub(await zipOf({ ...EPUB2, 'content/book.opf': opf }))).rejects.toThrow(
      /^the EPUB is not a valid book: language:/,
    );
  });
});
