import { posix } from 'node:path';
import { JoblineError } from '@jobline/libs';
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import TurndownService from 'turndown';
import yauzl from 'yauzl';
import { type Book, type BookChapter, type BookDefaults, parseBook } from './book';
import { EPUB_MEDIA_TYPE } from './epub-writer';

/** Bounds on what an EPUB may make the importer read: entries listed, and bytes inflated per entry and in all. */
export const EPUB_IMPORT_LIMITS = {
  maxEntries: 5_000,
  maxEntryBytes: 16 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
} as const;

const NS = {
  container: 'urn:oasis:names:tc:opendocument:xmlns:container',
  opf: 'http://www.idpf.org/2007/opf',
  dc: 'http://purl.org/dc/elements/1.1/',
  xhtml: 'http://www.w3.org/1999/xhtml',
  ops: 'http://www.idpf.org/2007/ops',
  ncx: 'http://www.daisy.org/z3986/2005/ncx/',
} as const;

const XHTML_TYPES = new Set(['application/xhtml+xml', 'text/html']);

/**
 * Reads an EPUB (3, or 2 with an NCX table of contents) into a book: `META-INF/container.xml` names the package
 * document, whose metadata gives the title, author(s) and language and whose spine gives the chapters' order. Each
 * spine document becomes a chapter titled by its table-of-contents entry (else its first heading, else its `<title>`),
 * its body converted to Markdown with turndown; the heading that repeats the title is dropped, since a chapter's title
 * is shown apart. Spine documents without text and without a table-of-contents entry (a cover) are skipped.
 *
 * `source` is the file's bytes or its path; `defaults` stand in for a title, creator or language the package lacks. Rejects with `VALIDATION_FAILED` (not retryable) and a message saying
 * what is wrong when the file is not a zip, not an EPUB, breaks a bound, or does not make a valid book.
 */
export async function importEpub(source: Buffer | { path: string }, defaults: BookDefaults = {}): Promise<Book> {
  const zip = await openZip(source);
  try {
    const files = await readEntries(zip);
    const mimetype = files.get('mimetype');
    if (!mimetype || (await mimetype.text()).trim() !== EPUB_MEDIA_TYPE) {
      throw invalid(`not an EPUB: the zip has no 'mimetype' entry saying ${EPUB_MEDIA_TYPE}`);
    }
    const container = await readXml(files, 'META-INF/container.xml');
    const rootfile = elements(container, NS.container, 'rootfile').find(
      (el) => el.getAttribute('media-type') === 'application/oebps-package+xml',
    );
    const packagePath = rootfile?.getAttribute('full-path');
    if (!packagePath) throw invalid('not an EPUB: META-INF/container.xml names no package document');
    const pkg = await readXml(files, packagePath);
    return await readBook(files, pkg, packagePath, defaults);
  } finally {
    zip.close();
  }
}

interface ZipEntryFile {
  text(): Promise<string>;
}

async function openZip(source: Buffer | { path: string }): Promise<yauzl.ZipFile> {
  const options: yauzl.Options = { lazyEntries: true, autoClose: false, strictFileNames: false };
  try {
    return Buffer.isBuffer(source)
      ? await yauzl.fromBufferPromise(source, options)
      : await yauzl.openPromise(source.path, options);
  } catch (err) {
    throw invalid(`not an EPUB: not a zip archive (${(err as Error).message})`, err);
  }
}

/** Lists the archive's files (not yet inflated), refusing archives that would take more than the bounds allow. */
async function readEntries(zip: yauzl.ZipFile): Promise<Map<string, ZipEntryFile>> {
  if (zip.entryCount > EPUB_IMPORT_LIMITS.maxEntries) {
    throw invalid(`the EPUB has ${zip.entryCount} entries; at most ${EPUB_IMPORT_LIMITS.maxEntries} are read`);
  }
  const files = new Map<string, ZipEntryFile>();
  let budget: number = EPUB_IMPORT_LIMITS.maxTotalBytes;
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith('/')) continue;
      files.set(entry.fileName, {
        text: async () => {
          if (entry.uncompressedSize > EPUB_IMPORT_LIMITS.maxEntryBytes || entry.uncompressedSize > budget) {
            throw invalid(
              `the EPUB's ${entry.fileName} inflates to ${entry.uncompressedSize} bytes, more than allowed`,
            );
          }
          budget -= entry.uncompressedSize;
          const chunks: Buffer[] = [];
          // yauzl checks that the entry inflates to exactly the size it declares, so the bound above holds.
          for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks).toString('utf8');
        },
      });
    }
  } catch (err) {
    if (err instanceof JoblineError) throw err;
    throw invalid(`not an EPUB: the zip archive is damaged (${(err as Error).message})`, err);
  }
  return files;
}

async function readFile(files: Map<string, ZipEntryFile>, path: string): Promise<string> {
  const file = files.get(path);
  if (!file) throw invalid(`the EPUB lacks ${path}, which its package names`);
  try {
    return await file.text();
  } catch (err) {
    if (err instanceof JoblineError) throw err;
    throw invalid(`the EPUB's ${path} cannot be read (${(err as Error).message})`, err);
  }
}

async function readXml(
  files: Map<string, ZipEntryFile>,
  path: string,
  mimeType = 'application/xml',
): Promise<Document> {
  const source = await readFile(files, path);
  try {
    return new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') throw new Error(message);
      },
    }).parseFromString(source, mimeType);
  } catch (err) {
    throw invalid(`the EPUB's ${path} is not well-formed XML (${(err as Error).message.split('\n')[0]})`, err);
  }
}

interface ManifestItem {
  path: string;
  mediaType: string;
  properties: string[];
}

async function readBook(
  files: Map<string, ZipEntryFile>,
  pkg: Document,
  packagePath: string,
  defaults: BookDefaults,
): Promise<Book> {
  const base = posix.dirname(packagePath);
  const manifest = new Map<string, ManifestItem>();
  for (const item of elements(pkg, NS.opf, 'item')) {
    const id = item.getAttribute('id');
    const href = item.getAttribute('href');
    if (!id || !href) continue;
    manifest.set(id, {
      path: resolveHref(base, href),
      mediaType: item.getAttribute('media-type') ?? '',
      properties: (item.getAttribute('properties') ?? '').split(/\s+/).filter(Boolean),
    });
  }
  const spine = elements(pkg, NS.opf, 'itemref')
    .map((ref) => manifest.get(ref.getAttribute('idref') ?? ''))
    .filter((item): item is ManifestItem => item !== undefined && XHTML_TYPES.has(item.mediaType))
    .filter((item) => !item.properties.includes('nav'));
  if (spine.length === 0) throw invalid('the EPUB has no XHTML documents in its spine');

  const toc = await tableOfContents(files, pkg, manifest);
  const chapters: BookChapter[] = [];
  for (const item of spine) {
    const doc = await readXml(files, item.path, 'application/xhtml+xml');
    const chapter = toChapter(doc, toc.get(item.path) ?? null, chapters.length + 1);
    if (chapter) chapters.push(chapter);
  }

  const metadata = (local: string) => elements(pkg, NS.dc, local).map((el) => collapse(el.textContent ?? ''));
  return parseBook(
    {
      title: metadata('title')[0] || defaults.title || '',
      author: metadata('creator').filter(Boolean).join(', ') || defaults.author || '',
      language: metadata('language')[0] || defaults.language || '',
      chapters,
    },
    'the EPUB',
  );
}

/** Chapter titles by document path: from the EPUB 3 navigation document, else from the EPUB 2 NCX. */
async function tableOfContents(
  files: Map<string, ZipEntryFile>,
  pkg: Document,
  manifest: Map<string, ManifestItem>,
): Promise<Map<string, string>> {
  const titles = new Map<string, string>();
  const add = (fromPath: string, href: string | null, label: string) => {
    if (!href || !label) return;
    const path = resolveHref(posix.dirname(fromPath), href);
    if (!titles.has(path)) titles.set(path, label);
  };
  const nav = [...manifest.values()].find((item) => item.properties.includes('nav'));
  if (nav) {
    const doc = await readXml(files, nav.path, 'application/xhtml+xml');
    const tocNav = elements(doc, NS.xhtml, 'nav').find((el) =>
      (el.getAttributeNS(NS.ops, 'type') ?? '').split(/\s+/).includes('toc'),
    );
    for (const anchor of tocNav ? elements(tocNav, NS.xhtml, 'a') : []) {
      add(nav.path, anchor.getAttribute('href'), collapse(anchor.textContent ?? ''));
    }
    return titles;
  }
  const spine = elements(pkg, NS.opf, 'spine')[0];
  const ncx = manifest.get(spine?.getAttribute('toc') ?? '');
  if (ncx) {
    const doc = await readXml(files, ncx.path);
    for (const point of elements(doc, NS.ncx, 'navPoint')) {
      const label = elements(point, NS.ncx, 'text')[0];
      const content = elements(point, NS.ncx, 'content')[0];
      add(ncx.path, content?.getAttribute('src') ?? null, collapse(label?.textContent ?? ''));
    }
  }
  return titles;
}

const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

function toChapter(doc: Document, tocTitle: string | null, position: number): BookChapter | null {
  const body = elements(doc, NS.xhtml, 'body')[0];
  if (!body) return null;
  const firstHeading = elements(body, NS.xhtml, '*').find((el) => HEADINGS.has(el.localName ?? ''));
  const headingText = firstHeading ? collapse(firstHeading.textContent ?? '') : '';
  const documentTitle = collapse(elements(doc, NS.xhtml, 'title')[0]?.textContent ?? '');
  const title = tocTitle || headingText || documentTitle || `Chapter ${position}`;
  if (firstHeading && headingText === title) firstHeading.parentNode?.removeChild(firstHeading);
  const markdown = htmlToMarkdown(childrenToHtml(body)).trim();
  if (!markdown && !tocTitle) return null;
  return { title, markdown };
}

function elements(root: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(root.getElementsByTagNameNS(namespace, localName));
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** An href of the package or a navigation document, as a path inside the zip (without its fragment). */
function resolveHref(baseDir: string, href: string): string {
  const url = new URL(href, `http://epub.invalid/${baseDir === '.' ? '' : `${baseDir}/`}`);
  return decodeURIComponent(url.pathname.slice(1));
}

const VOID_ELEMENTS = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);
const SKIPPED_ELEMENTS = new Set(['script', 'style', 'template']);

/**
 * Serializes XHTML children as HTML for turndown, which parses HTML: an XML serialization would self-close empty
 * elements (`<a id="x"/>`), which an HTML parser reads as an open tag swallowing what follows. Elements outside the
 * XHTML namespace (SVG, MathML) and scripts are left out.
 */
function childrenToHtml(node: Node): string {
  let html = '';
  for (let child = node.firstChild; child; child = child.nextSibling) html += nodeToHtml(child);
  return html;
}

function nodeToHtml(node: Node): string {
  if (node.nodeType === node.TEXT_NODE || node.nodeType === node.CDATA_SECTION_NODE) {
    return escapeHtml(node.nodeValue ?? '');
  }
  if (node.nodeType !== node.ELEMENT_NODE) return '';
  const element = node as Element;
  const name = element.localName ?? '';
  if (element.namespaceURI !== NS.xhtml || SKIPPED_ELEMENTS.has(name)) return '';
  let attributes = '';
  for (const attribute of Array.from(element.attributes)) {
    if (attribute.namespaceURI || attribute.name.startsWith('xmlns')) continue;
    attributes += ` ${attribute.name}="${escapeHtml(attribute.value).replace(/"/g, '&quot;')}"`;
  }
  if (VOID_ELEMENTS.has(name)) return `<${name}${attributes}>`;
  return `<${name}${attributes}>${childrenToHtml(element)}</${name}>`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const turndown = new TurndownService({
  headingStyle: 'atx',
  codeBlockStyle: 'fenced',
  fence: '```',
  bulletListMarker: '-',
  emDelimiter: '*',
  strongDelimiter: '**',
  hr: '---',
});
// A book holds no images (see render-markdown.ts): an image keeps its alternative text, and a cover page without
// any becomes empty and is skipped.
turndown.addRule('image', {
  filter: 'img',
  replacement: (_content, node) => {
    const alt = ((node as unknown as DomNode).getAttribute('alt') ?? '').trim();
    return alt ? turndown.escape(`[${alt}]`) : '';
  },
});
// turndown knows CommonMark; these rules add what the writer emits beyond it (GFM strikethrough and tables).
turndown.addRule('strikethrough', {
  filter: ['del', 's'],
  replacement: (content) => `~~${content}~~`,
});
turndown.addRule('tableCell', {
  filter: ['th', 'td'],
  replacement: (content, node) => {
    const first = elementSiblings(node as unknown as DomNode).indexOf(node as unknown as DomNode) === 0;
    return `${first ? '| ' : ' '}${content.trim().replace(/\n+/g, ' ').replace(/\|/g, '\\|')} |`;
  },
});
turndown.addRule('tableRow', {
  filter: 'tr',
  replacement: (content, node) => {
    const row = node as unknown as DomNode;
    const cells = Array.from(row.childNodes).filter((child) => child.nodeType === 1).length;
    const separator = row.parentNode?.nodeName === 'THEAD' ? `\n|${' --- |'.repeat(cells)}` : '';
    return `\n${content}${separator}`;
  },
});
turndown.addRule('tableSection', { filter: ['thead', 'tbody', 'tfoot'], replacement: (content) => content });
turndown.addRule('table', {
  filter: 'table',
  replacement: (content) => `\n\n${content.replace(/\n+/g, '\n').trim()}\n\n`,
});

/** The little of domino's DOM (turndown's parser in Node) that the rules below read. */
interface DomNode {
  nodeType: number;
  getAttribute(name: string): string | null;
  nodeName: string;
  parentNode: DomNode | null;
  childNodes: ArrayLike<DomNode>;
}

function elementSiblings(node: DomNode): DomNode[] {
  return Array.from(node.parentNode?.childNodes ?? []).filter((child) => child.nodeType === 1);
}

function htmlToMarkdown(html: string): string {
  return turndown.turndown(html);
}

function invalid(message: string, cause?: unknown): JoblineError {
  return new JoblineError('VALIDATION_FAILED', message, {
    cause,
    details: [{ field: 'file', code: 'invalid_format', message }],
  });
}
