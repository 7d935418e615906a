import { Readable } from 'node:stream';
import { parseCsv } from './parse-csv';
import { parseJsonArray } from './parse-json-array';
import { parseNdjson } from './parse-ndjson';
import { formatFromHead, formatFromHints, type ParsedRecord, type RecordFormat } from '@jobline/libs/data';

/** Reads `input` as records of `format`, one at a time, in file order. */
export function parseRecords(input: Readable, format: RecordFormat): AsyncIterable<ParsedRecord> {
  switch (format) {
    case 'ndjson':
      return parseNdjson(input);
    case 'json':
      return parseJsonArray(input);
    case 'csv':
      return parseCsv(input);
    default: {
      const _never: never = format;
      throw new Error(`unknown record format ${String(_never)}`);
    }
  }
}

/** How much of an input is looked at to tell its format when nothing else does. */
const SNIFF_BYTES = 512;

export interface RecordInput {
  input: Readable;
  /** The format when the caller knows it; else it is detected (see `detectRecordFormat`). */
  format?: RecordFormat | null;
  contentType?: string | null;
  fileName?: string | null;
}

/**
 * Settles the input's format: the caller's, else the declared one (`formatFromHints`), else by its first bytes, in
 * which case the returned input replays them before the rest.
 */
export async function resolveRecordFormat(source: RecordInput): Promise<{ format: RecordFormat; input: Readable }> {
  const declared = source.format ?? formatFromHints(source);
  if (declared) return { format: declared, input: source.input };
  const reader = source.input[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let bytes = 0;
  while (bytes < SNIFF_BYTES) {
    const next = await reader.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : (next.value as Buffer);
    chunks.push(chunk);
    bytes += chunk.length;
  }
  const head = Buffer.concat(chunks);
  async function* replay() {
    if (head.length > 0) yield head;
    for (let next = await reader.next(); !next.done; next = await reader.next()) yield next.value as Buffer;
  }
  return { format: formatFromHead(head), input: Readable.from(replay(), { objectMode: false }) };
}
