import { DOMParser } from '@xmldom/xmldom';
import { escapeXml, inlineText, parseMarkdown, renderMarkdownToXhtml } from './render-markdown';

/** Parses an XHTML fragment strictly: any error or fatal error throws. */
function wellFormed(fragment: string): void {
  new DOMParser({
    onError: (level, message) => {
      if (level !== 'warning') throw new Error(`${level}: ${message}`);
    },
  }).parseFromString(`<div xmlns="http://www.w3.org/1999/xhtml">${fragment}</div>`, 'application/xhtml+xml');
}

describe('renderMarkdownToXhtml', () => {
  it('shows raw HTML as text instead of passing it through', () => {
    const html = renderMarkdownToXhtml('<script>alert(1)</script>\n\nHi <b onclick="x()">there</b>');
    expect(html).not.toMatch(/<script|<b /);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    wellFormed(html);
  });

  it('writes XHTML: void elements closed, entities as characters or XML escapes', () => {
    const html = renderMarkdownToXhtml('line  \nbreak\n\n---\n\n&nbsp;&copy;&amp; 5 < 6 & "q"');
    expect(html).toContain('<br />');
    expect(html).toContain('<hr />');
    expect(html).not.toMatch(/&(nbsp|copy);/);
    expect(html).toContain('\u00a0©&amp; 5 &lt; 6 &amp; &quot;q&quot;');
    wellFormed(html);
  });

  it('keeps external links and drops the target of links that point nowhere in the book', () => {
    const html = renderMarkdownToXhtml(
      '[web](https://example.org/a?b=1&c=2) [mail](mailto:a@example.org) [file](notes.html) [anchor](#top) [js](javascript:alert(1))',
    );
    expect(html).toContain('<a href="https://example.org/a?b=1&amp;c=2">web</a>');
    expect(html).toContain('<a href="mailto:a@example.org">mail</a>');
    expect(html).toContain(' file anchor ');
    expect(html).not.toMatch(/notes\.html|#top|href="javascript/);
    wellFormed(html);
  });

  it('replaces an image by its alternative text', () => {
    expect(renderMarkdownToXhtml('![A <map>](map.png) ![](x.png)')).toBe(
      '<p><span class="image-alt">[A &lt;map&gt;]</span> </p>\n',
    );
  });

  it('replaces characters XML cannot hold', () => {
    const html = renderMarkdownToXhtml('bell\u0007 nul\u0000 lone\ud800 pair\ud83d\ude00');
    expect(html).toBe('<p>bell\ufffd nul\ufffd lone\ufffd pair\ud83d\ude00</p>\n');
    wellFormed(html);
  });

  it('renders tables, strikethrough, fenced code and nested lists as well-formed XHTML', () => {
    const html = renderMarkdownToXhtml(
      '| a | b |\n| :- | -: |\n| 1 | 2 |\n\n~~gone~~\n\n```js\nif (a < b && c) {}\n```\n\n- x\n  1. y\n',
    );
    expect(html).toContain('<td style="text-align:right">2</td>');
    expect(html).toContain('<s>gone</s>');
    expect(html).toContain('<code class="language-js">if (a &lt; b &amp;&amp; c) {}');
    wellFormed(html);
  });
});

describe('escapeXml and inlineText', () => {
  it('escapes markup characters and replaces invalid ones', () => {
    expect(escapeXml('a & <b> "c"\u0001')).toBe('a &amp; &lt;b&gt; &quot;c&quot;\ufffd');
  });

  it('takes the plain text of an inline token', () => {
    const [, inline] = parseMarkdown('## The *first* `one` [link](https://x.org) ![alt](a.png)');
    expect(inlineText(inline!)).toBe('The first one link alt');
  });
});
