import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ParsedRecord } from '@jobline/libs/data';

export interface NdjsonOptions {
  /** Longest line read as a record, in characters; a longer one is a parse error of its own. @defaultValue 1 MiB */
  maxLineLength?: number;
}

/**
 * Reads NDJSON line by line, holding one line at a time. Blank lines are skipped and not counted; a line that is not
 * JSON is a parse error of that record alone, and reading goes on with the next line. Accepts LF or CRLF and a
 * leading BOM.
 */
export async function* parseNdjson(input: Readable, options: NdjsonOptions = {}): AsyncGenerator<ParsedRecord> {
  const maxLength = options.maxLineLength ?? 1 << 20;
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let lineNumber = 0;
  let index = 0;
  let atStart = true;
  /** Set while skipping the rest of a line that grew past `maxLength`. */
  let overlong: string | null = null;

  const lineRecord = (text: string): ParsedRecord | null => {
    if (overlong !== null) {
      const raw = overlong;
      overlong = null;
      return {
        index: index++,
        line: lineNumber,
        parseError: `line longer than ${maxLength} characters`,
        raw,
        fatal: false,
      };
    }
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (line.length > maxLength) {
      return {
        index: index++,
        line: lineNumber,
        parseError: `line longer than ${maxLength} characters`,
        raw: line.slice(0, 200),
        fatal: false,
      };
    }
    if (line.trim() === '') return null;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      return {
        index: index++,
        line: lineNumber,
        parseError: `not JSON: ${(err as Error).message}`,
        raw: line,
        fatal: false,
      };
    }
    return { index: index++, line: lineNumber, record };
  };

  for await (const chunk of input) {
    let text = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer));
    if (atStart && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      atStart = false;
    }
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      lineNumber += 1;
      const parsed = lineRecord(text.slice(start, newline));
      start = newline + 1;
      if (parsed) yield parsed;
    }
    carry = text.slice(start);
    if (carry.length > maxLength) {
      overlong ??= carry.slice(0, 200);
      carry = '';
    }
  }
  carry += decoder.end();
  if (carry !== '' || overlong !== null) {
    lineNumber += 1;
    const parsed = lineRecord(carry);
    if (parsed) yield parsed;
  }
}
