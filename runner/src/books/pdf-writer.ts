import type { Readable } from 'node:stream';
import PDFDocument from 'pdfkit';
import type { Book } from './book';
import { type MarkdownToken, inlineText, parseMarkdown } from './render-markdown';

type FontRole = 'regular' | 'bold' | 'italic' | 'boldItalic' | 'mono';

export interface PdfOptions {
  /** The document's creation and modification dates (the PDF is otherwise a function of the book). */
  modified: Date;
  /**
   * TrueType or OpenType fonts (file paths or bytes) to embed instead of the PDF standard fonts, whose encoding only
   * covers Western European text: without them, characters outside Windows-1252 print as `?`.
   * @defaultValue Times (regular, bold, italic, bold italic) and Courier, not embedded
   */
  fonts?: Record<FontRole, string | Buffer>;
}

const STANDARD_FONTS: Record<FontRole, string> = {
  regular: 'Times-Roman',
  bold: 'Times-Bold',
  italic: 'Times-Italic',
  boldItalic: 'Times-BoldItalic',
  mono: 'Courier',
};

const PAGE = { size: 'A5', margin: 54 } as const;
const BODY_SIZE = 11;
const CODE_SIZE = 8.5;
const HEADING_SIZES = [17, 15, 13, 12, 11, 11] as const;
const INDENT = 18;
const LINK_COLOR = '#1a4f8b';

/**
 * Writes `book` as a PDF: a title page, then each chapter from a new page under its title, with the page number in
 * the footer of every page but the title page, and one outline entry (bookmark) per chapter. Chapter Markdown is laid
 * out from markdown-it's token stream: headings, paragraphs with bold, italic, strikethrough, inline code and external
 * links, nested lists, block quotes, code blocks, rules and tables (as rows of cells).
 *
 * Pages are kept in memory until the end, to number them; the book's bounds keep that small.
 */
export function writePdf(book: Book, options: PdfOptions): Readable {
  const doc = new PDFDocument({
    size: PAGE.size,
    margin: PAGE.margin,
    autoFirstPage: false,
    bufferPages: true,
    lang: book.language,
    displayTitle: true,
    info: {
      Title: book.title,
      Author: book.author,
      Creator: 'jobline',
      Producer: 'jobline',
      CreationDate: options.modified,
      ModDate: options.modified,
    },
  });
  const fonts = registerFonts(doc, options.fonts);
  const safe = options.fonts ? (text: string) => text : toWinAnsi;
  const layout = new ChapterLayout(doc, fonts, safe);

  doc.addPage();
  doc.font(fonts.bold).fontSize(24);
  doc.text(safe(book.title), PAGE.margin, doc.page.height * 0.3, { width: contentWidth(doc), align: 'center' });
  doc.moveDown(1);
  doc
    .font(fonts.italic)
    .fontSize(14)
    .text(safe(book.author), { width: contentWidth(doc), align: 'center' });

  for (const chapter of book.chapters) {
    doc.addPage();
    doc.outline.addItem(safe(chapter.title));
    doc.font(fonts.bold).fontSize(20).fillColor('black');
    doc.text(safe(chapter.title), PAGE.margin, PAGE.margin, { width: contentWidth(doc) });
    doc.moveDown(1);
    layout.render(parseMarkdown(chapter.markdown));
  }

  numberPages(doc, fonts.regular);
  doc.end();
  return doc;
}

function registerFonts(doc: PDFKit.PDFDocument, files: PdfOptions['fonts']): Record<FontRole, string> {
  if (!files) return STANDARD_FONTS;
  const names = {} as Record<FontRole, string>;
  for (const role of Object.keys(STANDARD_FONTS) as FontRole[]) {
    names[role] = `book-${role}`;
    doc.registerFont(names[role], files[role]);
  }
  return names;
}

function contentWidth(doc: PDFKit.PDFDocument): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

/** Writes the page number in the bottom margin of every page after the title page. */
function numberPages(doc: PDFKit.PDFDocument, font: string): void {
  const range = doc.bufferedPageRange();
  for (let index = range.start + 1; index < range.start + range.count; index++) {
    doc.switchToPage(index);
    const bottom = doc.page.margins.bottom;
    // Text below the bottom margin would otherwise start a new page.
    doc.page.margins.bottom = 0;
    doc.font(font).fontSize(9).fillColor('black');
    doc.text(String(index + 1), 0, doc.page.height - bottom / 2 - 4, {
      width: doc.page.width,
      align: 'center',
      lineBreak: false,
    });
    doc.page.margins.bottom = bottom;
  }
}

interface Run {
  text: string;
  bold: boolean;
  italic: boolean;
  mono: boolean;
  strike: boolean;
  link: string | null;
}

interface ListState {
  ordered: boolean;
  next: number;
}

const EXTERNAL_LINK = /^(https?:|mailto:)/i;

/** Lays out one chapter's block tokens, top to bottom, from the current position. */
class ChapterLayout {
  private indent = 0;
  private quoteDepth = 0;
  private readonly lists: ListState[] = [];
  /** The bullet or number of a list item whose first block has not been written yet. */
  private pendingMarker: string | null = null;

  constructor(
    private readonly doc: PDFKit.PDFDocument,
    private readonly fonts: Record<FontRole, string>,
    private readonly safe: (text: string) => string,
  ) {}

  render(tokens: MarkdownToken[]): void {
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]!;
      switch (token.type) {
        case 'heading_open': {
          const level = Number(token.tag.slice(1));
          this.doc.moveDown(0.4);
          this.writeInline(tokens[++i]!, { size: HEADING_SIZES[level - 1] ?? BODY_SIZE, bold: true });
          this.doc.moveDown(0.3);
          break;
        }
        case 'paragraph_open':
          this.writeInline(tokens[++i]!, { size: BODY_SIZE, bold: false });
          // A tight list's paragraphs are hidden in markdown-it's stream: its items sit closer together.
          this.doc.moveDown(token.hidden ? 0.15 : 0.5);
          break;
        case 'bullet_list_open':
        case 'ordered_list_open':
          this.lists.push({ ordered: token.type === 'ordered_list_open', next: Number(token.attrGet('start') ?? 1) });
          this.indent += INDENT;
          break;
        case 'bullet_list_close':
        case 'ordered_list_close':
          this.lists.pop();
          this.indent -= INDENT;
          if (this.lists.length === 0) this.doc.moveDown(0.35);
          break;
        case 'list_item_open': {
          const list = this.lists[this.lists.length - 1];
          this.pendingMarker = list?.ordered ? `${list.next++}.` : '\u2022';
          break;
        }
        case 'blockquote_open':
          this.quoteDepth++;
          this.indent += INDENT;
          break;
        case 'blockquote_close':
          this.quoteDepth--;
          this.indent -= INDENT;
          break;
        case 'fence':
        case 'code_block':
          this.writeCode(token.content.replace(/\n$/, ''));
          break;
        case 'hr':
          this.writeRule();
          break;
        case 'table_open':
          i = this.writeTable(tokens, i);
          break;
        default:
          // Closing tokens of paragraphs, headings and list items carry nothing to draw.
          break;
      }
    }
  }

  private get x(): number {
    return this.doc.page.margins.left + this.indent;
  }

  private get width(): number {
    return contentWidth(this.doc) - this.indent;
  }

  /** Draws a pending list marker left of the block about to start, on its first line. */
  private startBlock(size: number): void {
    const doc = this.doc;
    // Keep a block's first line off the bottom edge, so that its marker and its text share a page.
    if (doc.y + size * 1.5 > doc.page.height - doc.page.margins.bottom) doc.addPage();
    if (this.pendingMarker === null) return;
    doc.font(this.fonts.regular).fontSize(size).fillColor('black');
    doc.text(this.pendingMarker, this.x - INDENT + 4, doc.y, { lineBreak: false });
    this.pendingMarker = null;
  }

  private writeInline(inline: MarkdownToken, style: { size: number; bold: boolean }): void {
    const runs = mergeRuns(this.runs(inline, style.bold));
    if (runs.length === 0) return;
    const doc = this.doc;
    this.startBlock(style.size);
    const y = doc.y;
    runs.forEach((run, index) => {
      doc.font(this.fontOf(run)).fontSize(run.mono ? style.size * 0.9 : style.size);
      doc.fillColor(run.link ? LINK_COLOR : this.quoteDepth > 0 ? '#444444' : 'black');
      const options: PDFKit.Mixins.TextOptions = {
        continued: index < runs.length - 1,
        strike: run.strike,
        underline: run.link !== null,
        link: run.link,
      };
      if (index === 0) doc.text(this.safe(run.text), this.x, y, { ...options, width: this.width });
      else doc.text(this.safe(run.text), options);
    });
    doc.fillColor('black');
  }

  private fontOf(run: Run): string {
    if (run.mono) return this.fonts.mono;
    const italic = run.italic || this.quoteDepth > 0;
    if (run.bold) return italic ? this.fonts.boldItalic : this.fonts.bold;
    return italic ? this.fonts.italic : this.fonts.regular;
  }

  private runs(inline: MarkdownToken, bold: boolean): Run[] {
    const runs: Run[] = [];
    const state = { bold: bold ? 1 : 0, italic: 0, strike: 0, links: [] as (string | null)[] };
    const push = (text: string, mono = false) =>
      runs.push({
        text,
        mono,
        bold: state.bold > 0,
        italic: state.italic > 0,
        strike: state.strike > 0,
        link: state.links[state.links.length - 1] ?? null,
      });
    for (const child of inline.children ?? []) {
      switch (child.type) {
        case 'text':
          push(child.content);
          break;
        case 'code_inline':
          push(child.content, true);
          break;
        case 'softbreak':
          push(' ');
          break;
        case 'hardbreak':
          push('\n');
          break;
        case 'strong_open':
          state.bold++;
          break;
        case 'strong_close':
          state.bold--;
          break;
        case 'em_open':
          state.italic++;
          break;
        case 'em_close':
          state.italic--;
          break;
        case 's_open':
          state.strike++;
          break;
        case 's_close':
          state.strike--;
          break;
        case 'link_open': {
          const href = String(child.attrGet('href') ?? '');
          state.links.push(EXTERNAL_LINK.test(href) ? href : null);
          break;
        }
        case 'link_close':
          state.links.pop();
          break;
        case 'image': {
          const alt = inlineText(child);
          if (alt) push(`[${alt}]`);
          break;
        }
        default:
          break;
      }
    }
    return runs;
  }

  private writeCode(code: string): void {
    const doc = this.doc;
    this.startBlock(CODE_SIZE);
    doc.font(this.fonts.mono).fontSize(CODE_SIZE).fillColor('#333333');
    doc.text(this.safe(code.replace(/\t/g, '    ')), this.x + 8, doc.y, { width: this.width - 8, lineGap: 1 });
    doc.fillColor('black');
    doc.moveDown(0.6);
  }

  private writeRule(): void {
    const doc = this.doc;
    this.startBlock(BODY_SIZE);
    const y = doc.y + 4;
    doc
      .moveTo(this.x + this.width * 0.25, y)
      .lineTo(this.x + this.width * 0.75, y)
      .lineWidth(0.5)
      .strokeColor('#888888')
      .stroke();
    doc.y = y + 10;
  }

  /** Writes a table as one line per row, cells separated by a vertical bar, the header row in bold. */
  private writeTable(tokens: MarkdownToken[], start: number): number {
    let row: string[] = [];
    let header = false;
    let i = start + 1;
    for (; i < tokens.length && tokens[i]!.type !== 'table_close'; i++) {
      const token = tokens[i]!;
      if (token.type === 'thead_open') header = true;
      if (token.type === 'tbody_open') header = false;
      if (token.type === 'tr_open') row = [];
      if (token.type === 'inline') row.push(inlineText(token));
      if (token.type === 'tr_close') {
        this.startBlock(BODY_SIZE);
        this.doc
          .font(header ? this.fonts.bold : this.fonts.regular)
          .fontSize(BODY_SIZE - 1)
          .fillColor('black');
        this.doc.text(this.safe(row.join('  |  ')), this.x, this.doc.y, { width: this.width });
      }
    }
    this.doc.moveDown(0.5);
    return i;
  }
}

/**
 * Joins neighbouring runs of one style: markdown-it splits text at every character an inline rule may start at, and
 * each continued fragment costs pdfkit a call; a line break alone in a fragment would be lost.
 */
function mergeRuns(runs: Run[]): Run[] {
  const merged: Run[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (
      last &&
      last.bold === run.bold &&
      last.italic === run.italic &&
      last.mono === run.mono &&
      last.strike === run.strike &&
      last.link === run.link
    ) {
      last.text += run.text;
    } else if (run.text.length > 0) {
      merged.push({ ...run });
    }
  }
  return merged;
}

/** Characters of Windows-1252 beyond Latin-1, which the standard fonts' WinAnsiEncoding maps to bytes 0x80 to 0x9F. */
const WIN_ANSI_EXTRA = new Set(
  '\u20AC\u201A\u0192\u201E\u2026\u2020\u2021\u02C6\u2030\u0160\u2039\u0152\u017D\u2018\u2019\u201C\u201D\u2022\u2013\u2014\u02DC\u2122\u0161\u203A\u0153\u017E\u0178',
);

/** The standard fonts can only show Windows-1252: anything else would print as garbage, so it prints as `?`. */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const printable = (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRA.has(char);
    out += printable || char === '\n' || char === '\t' ? char : '?';
  }
  return out;
}
