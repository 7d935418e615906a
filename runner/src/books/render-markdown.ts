import MarkdownIt from 'markdown-it';

export type MarkdownToken = MarkdownIt.Token;

/**
 * One parser for every book format, so that the EPUB and the PDF read a chapter the same way: CommonMark with GFM
 * tables and strikethrough. Raw HTML is off (`<script>` in a chapter is shown as text, never run by a reader) and the
 * output is XHTML (`<br />`, `<img />`), which EPUB requires. Typographic replacements stay off so that an imported
 * manuscript keeps its author's characters.
 */
const markdown = new MarkdownIt('default', { html: false, xhtmlOut: true, linkify: false, typographer: false });

/** Link targets a book may keep: a reader opens them outside the book. Everything else points at nothing in it. */
const EXTERNAL_LINK = /^(https?:|mailto:)/i;

const defaultLinkOpen = markdown.renderer.rules.link_open;
const defaultLinkClose = markdown.renderer.rules.link_close;

// A relative link or a fragment would name a file or an id that the book does not contain (EPUBCheck: RSC-007,
// RSC-012), so such a link keeps its text and loses its target.
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  if (!EXTERNAL_LINK.test(String(token.attrGet('href') ?? ''))) {
    token.meta = { ...token.meta, dropped: true };
    return '';
  }
  return defaultLinkOpen ? defaultLinkOpen(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
};
markdown.renderer.rules.link_close = (tokens, idx, options, env, self) => {
  const open = findLinkOpen(tokens, idx);
  if (open?.meta?.dropped) return '';
  return defaultLinkClose ? defaultLinkClose(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
};

// Books carry no images of their own yet: an image becomes its alternative text, since a remote image would have to be
// declared as a remote resource and fetched by every reader, and a relative one would be missing.
markdown.renderer.rules.image = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  const alt = self.renderInlineAsText(token.children ?? [], options, env);
  return alt ? `<span class="image-alt">[${markdown.utils.escapeHtml(alt)}]</span>` : '';
};

function findLinkOpen(tokens: MarkdownToken[], closeIdx: number): MarkdownToken | undefined {
  let depth = 0;
  for (let i = closeIdx - 1; i >= 0; i--) {
    const token = tokens[i]!;
    if (token.type === 'link_close') depth++;
    if (token.type === 'link_open') {
      if (depth === 0) return token;
      depth--;
    }
  }
  return undefined;
}

/**
 * Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return, lone surrogates, U+FFFE and
 * U+FFFF): one of them in a chapter would make the whole EPUB unreadable, so they become U+FFFD.
 */
const XML_INVALID =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function toXmlSafeText(text: string): string {
  return text.replace(XML_INVALID, '\uFFFD');
}

/** Escapes text for an XML element or a double-quoted attribute. */
export function escapeXml(text: string): string {
  return toXmlSafeText(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A chapter's Markdown as an XHTML fragment, well-formed and free of raw HTML, to place inside `<body>`. */
export function renderMarkdownToXhtml(source: string): string {
  return markdown.render(toXmlSafeText(source));
}

/** A chapter's Markdown as markdown-it's block token stream (inline tokens carry `children`), for writers that lay
 * text out themselves. */
export function parseMarkdown(source: string): MarkdownToken[] {
  return markdown.parse(toXmlSafeText(source), {});
}

/** The text of an inline token without its Markdown: `Chapter *One*` → `Chapter One`. */
export function inlineText(token: MarkdownToken): string {
  return (token.children ?? [])
    .map((child) => {
      switch (child.type) {
        case 'text':
        case 'code_inline':
          return child.content;
        case 'softbreak':
        case 'hardbreak':
          return ' ';
        case 'image':
          return inlineText(child);
        default:
          return '';
      }
    })
    .join('');
}
