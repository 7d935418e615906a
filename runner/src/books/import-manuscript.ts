import { JoblineError } from '@jobline/libs';
import { parse as parseYaml } from 'yaml';
import { type Book, type BookChapter, type BookDefaults, BOOK_LIMITS, parseBook } from './book';
import { type MarkdownToken, inlineText, parseMarkdown } from './render-markdown';

/**
 * Turns a Markdown manuscript into a book.
 *
 * - **Front matter** (optional): a YAML block between `---` lines at the very start, with `title`, `author` and
 *   `language`. Its values win over `defaults`; the language is `en` when neither gives one.
 * - **Book title**: front matter `title`; else a level-1 heading that is the manuscript's first block and its only
 *   level-1 heading (`# The Book`, then `## Chapter` headings); else `defaults.title`.
 * - **Chapters** start at every heading of the highest level left once the title heading is set aside: `##` under a
 *   `# Title`, `#` in a manuscript of several `#` headings, `##` when a manuscript only has those. A chapter's title
 *   is its heading as plain text; its body is the Markdown source below the heading, verbatim, up to the next chapter.
 *   Deeper headings stay inside their chapter. Headings in code blocks are not headings.
 * - Text before the first chapter heading (an untitled opening) becomes a first chapter named after the book; a
 *   manuscript without any heading is one chapter.
 *
 * Rejects with `VALIDATION_FAILED`, naming the field, when the result is not a valid book.
 */
export function importManuscript(source: string, defaults: BookDefaults = {}): Book {
  const text = source.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const { frontMatter, body } = splitFrontMatter(text);
  const lines = body.split('\n');
  const headings = parseMarkdown(body)
    .map((token, index, tokens) => ({ token, inline: tokens[index + 1] }))
    .filter(({ token }) => token.type === 'heading_open' && token.level === 0)
    .map(({ token, inline }) => heading(token, inline));

  const first = headings[0];
  const titleHeading =
    frontMatter.title === undefined &&
    first?.level === 1 &&
    headings.filter((h) => h.level === 1).length === 1 &&
    isBlank(lines.slice(0, first.startLine))
      ? first
      : null;
  const chapterHeadings = titleHeading ? headings.slice(1) : headings;
  const title = frontMatter.title ?? titleHeading?.text ?? defaults.title ?? null;
  if (title === null) {
    throw new JoblineError(
      'VALIDATION_FAILED',
      'the manuscript has no book title: start it with a `# Title` heading or front matter `title:`, or name one',
      { details: [{ field: 'title', code: 'invalid_type', message: 'a book title is required' }] },
    );
  }

  const chapterLevel = Math.min(...chapterHeadings.map((h) => h.level));
  const starts = chapterHeadings.filter((h) => h.level === chapterLevel);
  const chapters: BookChapter[] = [];
  const openingEnd = starts[0]?.startLine ?? lines.length;
  const opening = slice(lines, titleHeading?.endLine ?? 0, openingEnd);
  if (opening) chapters.push({ title, markdown: opening });
  starts.forEach((start, index) => {
    const end = starts[index + 1]?.startLine ?? lines.length;
    chapters.push({ title: start.text, markdown: slice(lines, start.endLine, end) });
  });
  if (chapters.length > BOOK_LIMITS.maxChapters) {
    throw new JoblineError(
      'VALIDATION_FAILED',
      `the manuscript has ${chapters.length} chapters; at most ${BOOK_LIMITS.maxChapters} are allowed`,
      { details: [{ field: 'chapters', code: 'too_big', message: `at most ${BOOK_LIMITS.maxChapters} chapters` }] },
    );
  }

  return parseBook(
    {
      title,
      author: frontMatter.author ?? defaults.author,
      language: frontMatter.language ?? defaults.language ?? 'en',
      chapters,
    },
    'the manuscript',
  );
}

interface Heading {
  level: number;
  text: string;
  /** The heading's first line and the line after it, 0-based in the body (a setext heading spans two lines). */
  startLine: number;
  endLine: number;
}

function heading(token: MarkdownToken, inline: MarkdownToken | undefined): Heading {
  const [startLine, endLine] = token.map ?? [0, 0];
  return { level: Number(token.tag.slice(1)), text: inline ? inlineText(inline).trim() : '', startLine, endLine };
}

function isBlank(lines: string[]): boolean {
  return lines.every((line) => line.trim() === '');
}

/** Lines `[from, to)` without the blank lines around them. */
function slice(lines: string[], from: number, to: number): string {
  const part = lines.slice(from, to);
  while (part.length > 0 && part[0]!.trim() === '') part.shift();
  while (part.length > 0 && part[part.length - 1]!.trim() === '') part.pop();
  return part.join('\n');
}

interface FrontMatter {
  title?: string;
  author?: string;
  language?: string;
}

const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?)\n(?:---|\.\.\.)[ \t]*(?:\n|$)/;

function splitFrontMatter(text: string): { frontMatter: FrontMatter; body: string } {
  const match = FRONT_MATTER.exec(text);
  if (!match) return { frontMatter: {}, body: text };
  let data: unknown;
  try {
    data = parseYaml(match[1]!, { maxAliasCount: 10 });
  } catch (err) {
    throw new JoblineError(
      'VALIDATION_FAILED',
      `the manuscript's front matter is not YAML: ${(err as Error).message}`,
      {
        cause: err,
        details: [{ field: 'frontMatter', code: 'invalid_format', message: 'YAML between --- lines' }],
      },
    );
  }
  const frontMatter: FrontMatter = {};
  if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
    for (const key of ['title', 'author', 'language'] as const) {
      const value = (data as Record<string, unknown>)[key];
      if (typeof value === 'string' || typeof value === 'number') frontMatter[key] = String(value);
    }
  }
  return { frontMatter, body: text.slice(match[0].length) };
}
