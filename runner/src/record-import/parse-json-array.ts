import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { none } from 'stream-chain';
import streamArray from 'stream-json/streamers/stream-array.js';
import type { ParsedRecord } from '@jobline/libs/data';

/**
 * Text handed to the parser at a time. stream-json returns a call's items only once the whole text of the call is
 * parsed, so a syntax error loses the items completed within that call: fixed slices, cut the same way whatever
 * chunks the input arrives in, keep that loss small and the position of the error the same on every run.
 */
const SLICE_CHARS = 1024;

/**
 * Reads a top-level JSON array item by item with stream-json, holding one item at a time, never the whole file. An
 * item of the wrong shape (a number, a string, an object with wrong fields) is read and left to validation. A syntax
 * error ends the stream: JSON offers no way to find the next item after one, so it becomes a fatal parse error at the
 * index reached (items that ended in the last slice before the error are counted in it). Errors of the input stream
 * itself (a broken download) are thrown as they are.
 */
export async function* parseJsonArray(input: Readable): AsyncGenerator<ParsedRecord> {
  const parse = streamArray.withParser();
  const decoder = new StringDecoder('utf8');
  let index = 0;
  let pending = '';
  let failure: Error | null = null;

  async function* feed(text: string | typeof none): AsyncGenerator<ParsedRecord> {
    try {
      for await (const item of parse(text as string) as AsyncIterable<streamArray.StreamArrayItem>) {
        yield { index, line: null, record: item.value };
        index += 1;
      }
    } catch (err) {
      failure = err as Error;
    }
  }

  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer);
    let start = 0;
    for (; pending.length - start >= SLICE_CHARS && !failure; start += SLICE_CHARS) {
      yield* feed(pending.slice(start, start + SLICE_CHARS));
    }
    pending = pending.slice(start);
    if (failure) break;
  }
  if (!failure) {
    pending += decoder.end();
    if (pending !== '') yield* feed(pending);
  }
  if (!failure) yield* feed(none);
  if (failure) {
    const message = (failure as Error).message;
    yield { index, line: null, parseError: `malformed JSON: ${message}`, raw: '', fatal: true };
  }
}
