/**
 * The curl commands of a documentation's shell block, read as the documentation writes them and sent with fetch: just
 * enough of the shell (comments, `\` line continuations, single and double quotes) and of curl (`-X`, `-H`, `-F`,
 * `-d`, `--output`) to send what the command sends, so that a test can hold documented requests verbatim.
 */
export interface CurlCommand {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** `-F name=@file` parts: the field and the file it uploads. */
  files: { field: string; file: string }[];
  /** `-d`: the body, as written. */
  data: string | null;
  /** `--output`: where curl would write the response. */
  output: string | null;
}

/** The shell words of one command. Unlike a shell, an unquoted `&` inside a word stays part of it (URLs). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === '\\' && command[i + 1] === '\n') {
      i++;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${command}`);
      word = (word ?? '') + command.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; command[i] !== '"'; i++) {
        if (i >= command.length) throw new Error(`unclosed " in: ${command}`);
        if (command[i] === '\\' && '"\\$`'.includes(command[i + 1] ?? '')) i++;
        word += command[i];
      }
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

/** The curl commands of a shell block, in order; lines starting with `#` are comments. */
export function curlCommands(block: string): CurlCommand[] {
  const text = block
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  // A command ends at a line break that no `\` continues and no open quote holds.
  const commands: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === null && (c === "'" || c === '"')) quote = c;
    else if (quote !== null && c === quote && !(quote === '"' && text[i - 1] === '\\')) quote = null;
    if (c === '\n' && quote === null && !current.endsWith('\\')) {
      if (current.trim() !== '') commands.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current.trim() !== '') commands.push(current);
  return commands.map((command) => parseCurl(shellWords(command)));
}

function parseCurl(words: string[]): CurlCommand {
  if (words[0] !== 'curl') throw new Error(`not a curl command: ${words.join(' ')}`);
  const command: CurlCommand = { method: '', url: '', headers: {}, files: [], data: null, output: null };
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    const value = () => {
      const next = words[++i];
      if (next === undefined) throw new Error(`${word} without a value`);
      return next;
    };
    if (word === '-X' || word === '--request') command.method = value();
    else if (word === '-H' || word === '--header') {
      const header = value();
      const colon = header.indexOf(':');
      command.headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-F' || word === '--form') {
      const [field, file] = value().split('=@') as [string, string | undefined];
      if (file === undefined) throw new Error(`only file parts are supported: ${field}`);
      command.files.push({ field, file });
    } else if (word === '-d' || word === '--data') command.data = value();
    else if (word === '-o' || word === '--output') command.output = value();
    else if (word.startsWith('-')) throw new Error(`unsupported curl option ${word}`);
    else command.url = word;
  }
  command.method ||= command.data !== null || command.files.length > 0 ? 'POST' : 'GET';
  return command;
}

/**
 * Sends `command` as curl would, to `url` (the command's own, adapted to where the API answers), with `files` giving
 * the contents of the files it uploads. Parts go as `application/octet-stream`, curl's type for a file it does not
 * know; `-d` without a `Content-Type` goes as a form, as with curl.
 */
export function sendCurl(
  command: CurlCommand,
  url: string,
  headers: Record<string, string>,
  files: Record<string, string> = {},
): Promise<Response> {
  let body: FormData | string | undefined;
  const sent = { ...command.headers, ...headers };
  if (command.files.length > 0) {
    const form = new FormData();
    for (const { field, file } of command.files) {
      const content = files[file];
      if (content === undefined) throw new Error(`no content given for ${file}`);
      form.append(field, new Blob([content], { type: 'application/octet-stream' }), file);
    }
    body = form;
  } else if (command.data !== null) {
    body = command.data;
    sent['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  return fetch(url, { method: command.method, headers: sent, body });
}
