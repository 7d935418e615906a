/** One nginx directive: `name arg …;`, or `name arg … { … }` with the directives of its block. */
export interface NginxDirective {
  name: string;
  args: string[];
  block?: NginxDirective[];
}

/**
 * Reads an nginx configuration into its directives, enough to check what jobline's gateway config says: words,
 * single- or double-quoted strings (quotes removed, backslash escapes kept as written), `#` comments, blocks.
 * Variables stay as written (`$uri`). Throws on unbalanced braces or a directive without its `;`.
 */
export function parseNginxConfig(text: string): NginxDirective[] {
  const tokens = tokenize(text);
  let position = 0;

  const parseBlock = (nested: boolean): NginxDirective[] => {
    const directives: NginxDirective[] = [];
    let words: string[] = [];
    while (position < tokens.length) {
      const token = tokens[position++]!;
      if (token.kind === 'word') {
        words.push(token.value);
      } else if (token.value === ';') {
        if (words.length === 0) throw new Error('nginx config: empty directive');
        directives.push({ name: words[0]!, args: words.slice(1) });
        words = [];
      } else if (token.value === '{') {
        if (words.length === 0) throw new Error('nginx config: block without a name');
        directives.push({ name: words[0]!, args: words.slice(1), block: parseBlock(true) });
        words = [];
      } else {
        if (!nested) throw new Error('nginx config: unexpected }');
        if (words.length > 0) throw new Error(`nginx config: '${words.join(' ')}' lacks its ;`);
        return directives;
      }
    }
    if (nested) throw new Error('nginx config: missing }');
    if (words.length > 0) throw new Error(`nginx config: '${words.join(' ')}' lacks its ;`);
    return directives;
  };

  return parseBlock(false);
}

type Token = { kind: 'word'; value: string } | { kind: 'punctuation'; value: ';' | '{' | '}' };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i]!;
    if (/\s/.test(char)) {
      i++;
    } else if (char === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (char === ';' || char === '{' || char === '}') {
      tokens.push({ kind: 'punctuation', value: char });
      i++;
    } else if (char === '"' || char === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== char) {
        if (text[i] === '\\' && i + 1 < text.length) value += text[i++];
        value += text[i++];
      }
      if (i >= text.length) throw new Error('nginx config: unterminated string');
      i++;
      tokens.push({ kind: 'word', value });
    } else {
      let value = '';
      while (i < text.length && !/[\s;{}]/.test(text[i]!)) value += text[i++];
      tokens.push({ kind: 'word', value });
    }
  }
  return tokens;
}
