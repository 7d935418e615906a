import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import type { Book } from './book';
import { escapeXml, renderMarkdownToXhtml } from './render-markdown';

export const EPUB_MEDIA_TYPE = 'application/epub+zip';

export interface EpubOptions {
  /** The publication's unique identifier, a UUID (written as `urn:uuid:…`): keep it stable across exports of a book. */
  identifier: string;
  /** When the book was last changed: `dcterms:modified`, and the time stamp of every zip entry. */
  modified: Date;
}

/** Where the package document and the content live inside the container. */
const CONTENT_DIR = 'OEBPS';
const PACKAGE_PATH = `${CONTENT_DIR}/content.opf`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const STYLESHEET = `body { font-family: serif; line-height: 1.5; margin: 0 5%; }
h1 { font-size: 1.6em; margin: 1.5em 0 1em; text-align: center; }
h2 { font-size: 1.3em; } h3 { font-size: 1.15em; }
p { margin: 0 0 0.8em; }
pre { font-family: monospace; font-size: 0.85em; white-space: pre-wrap; background: #f4f4f4; padding: 0.5em; }
code { font-family: monospace; }
blockquote { margin: 0 1.5em; font-style: italic; }
table { border-collapse: collapse; } th, td { border: 1px solid #999; padding: 0.2em 0.4em; }
.image-alt { color: #666; }
`;

/** The file name of chapter `index` (from 0) inside `OEBPS/`. */
export function chapterFileName(index: number): string {
  return `chapter-${String(index + 1).padStart(3, '0')}.xhtml`;
}

/**
 * Writes `book` as an EPUB 3 publication: the OCF zip container with `mimetype` as its first entry, stored and with
 * no extra field (readers sniff the type at a fixed offset), `META-INF/container.xml`, the package document, the
 * navigation document, a stylesheet and one XHTML content document per chapter, in reading order. The zip is produced
 * as it is read; chapters are rendered up front, which the book's bounds keep small.
 */
export function writeEpub(book: Book, options: EpubOptions): Readable {
  if (!UUID.test(options.identifier)) throw new TypeError(`identifier must be a UUID, got '${options.identifier}'`);
  const zip = new ZipFile();
  const entry = { mtime: options.modified, forceDosTimestamp: true };
  zip.addBuffer(Buffer.from(EPUB_MEDIA_TYPE, 'ascii'), 'mimetype', { ...entry, compress: false });
  zip.addBuffer(Buffer.from(containerXml()), 'META-INF/container.xml', entry);
  zip.addBuffer(Buffer.from(packageDocument(book, options)), PACKAGE_PATH, entry);
  zip.addBuffer(Buffer.from(navigationDocument(book)), `${CONTENT_DIR}/nav.xhtml`, entry);
  zip.addBuffer(Buffer.from(STYLESHEET), `${CONTENT_DIR}/styles.css`, entry);
  book.chapters.forEach((chapter, index) => {
    const xhtml = contentDocument(book.language, chapter.title, renderMarkdownToXhtml(chapter.markdown));
    zip.addBuffer(Buffer.from(xhtml), `${CONTENT_DIR}/${chapterFileName(index)}`, entry);
  });
  zip.end();
  // yazl's typings say NodeJS.ReadableStream; the stream is a PassThrough.
  return zip.outputStream as Readable;
}

function containerXml(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="${PACKAGE_PATH}" media-type="application/oebps-package+xml"/>
  </rootfiles>
</container>
`;
}

/** `dcterms:modified` must be UTC to the second, without fractions: `2025-01-31T12:00:00Z`. */
function modifiedStamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function packageDocument(book: Book, options: EpubOptions): string {
  const language = escapeXml(book.language);
  const chapters = book.chapters.map((_, index) => ({ id: `chapter-${index + 1}`, href: chapterFileName(index) }));
  return `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="book-id" xml:lang="${language}">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="book-id">urn:uuid:${options.identifier.toLowerCase()}</dc:identifier>
    <dc:title>${escapeXml(book.title)}</dc:title>
    <dc:creator>${escapeXml(book.author)}</dc:creator>
    <dc:language>${language}</dc:language>
    <meta property="dcterms:modified">${modifiedStamp(options.modified)}</meta>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="css" href="styles.css" media-type="text/css"/>
${chapters.map((c) => `    <item id="${c.id}" href="${c.href}" media-type="application/xhtml+xml"/>`).join('\n')}
  </manifest>
  <spine>
${chapters.map((c) => `    <itemref idref="${c.id}"/>`).join('\n')}
  </spine>
</package>
`;
}

function navigationDocument(book: Book): string {
  const items = book.chapters
    .map((chapter, index) => `        <li><a href="${chapterFileName(index)}">${escapeXml(chapter.title)}</a></li>`)
    .join('\n');
  return xhtmlDocument(
    book.language,
    book.title,
    `    <nav epub:type="toc" id="toc">
      <h1>${escapeXml(book.title)}</h1>
      <ol>
${items}
      </ol>
    </nav>`,
  );
}

function contentDocument(language: string, title: string, bodyXhtml: string): string {
  return xhtmlDocument(
    language,
    title,
    `    <section epub:type="chapter">
      <h1>${escapeXml(title)}</h1>
${bodyXhtml}
    </section>`,
  );
}

function xhtmlDocument(language: string, title: string, body: string): string {
  const lang = escapeXml(language);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" xml:lang="${lang}" lang="${lang}">
  <head>
    <title>${escapeXml(title)}</title>
    <link rel="stylesheet" type="text/css" href="styles.css"/>
  </head>
  <body>
${body}
  </body>
</html>
`;
}
