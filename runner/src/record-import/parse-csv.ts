import type { Readable } from 'node:stream';
import { parse, type CsvError, type Info } from 'csv-parse';
import type { ParsedRecord } from '@jobline/libs/data';

export interface CsvOptions {
  /** Largest record, in characters; a larger one ends the import (its end cannot be found safely). @defaultValue 1 MiB */
  maxRecordSize?: number;
}

/** Errors after which csv-parse has lost its place in the file: nothing after them can be trusted. */
const FATAL_CSV_ERRORS = new Set(['CSV_QUOTE_NOT_CLOSED', 'CSV_MAX_RECORD_SIZE']);

interface Skipped {
  /** Records emitted before the bad one. */
  recordsBefore: number;
  parsed: ParsedRecord;
}

/**
 * Reads RFC 4180 CSV with csv-parse: a header row naming the fields (trimmed), then one record a row, as an object of
 * strings. Quoted fields may hold commas, quotes (doubled) and line breaks; LF, CRLF and CR all end rows; a leading
 * BOM and blank lines are skipped. A row of the wrong width or with a stray quote is a parse error of that row alone;
 * an unclosed quote or an oversized record ends the stream with a fatal one. Values stay strings: what they mean
 * (empty cells, lists) is the resource's business.
 */
export async function* parseCsv(input: Readable, options: CsvOptions = {}): AsyncGenerator<ParsedRecord> {
  const skipped: Skipped[] = [];
  let index = 0;
  /** csv-parse counts a CRLF inside quotes as two lines; its line numbers after one are that much ahead. */
  let quotedCrlfs = 0;
  const parser = parse({
    bom: true,
    columns: (header: string[]) => csvHeader(header),
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n', '\r'],
    info: true,
    // Only for the text of a skipped row, which is all an import can show of it.
    raw: true,
    skip_records_with_error: true,
    max_record_size: options.maxRecordSize ?? 1 << 20,
  });
  // csv-parse reports a skipped row when it parses it, ahead of the rows still buffered for the reader; it is put
  // back in file order by the count of rows emitted before it.
  parser.on('skip', (err: CsvError & { records?: number; lines?: number; raw?: string }) => {
    skipped.push({
      recordsBefore: err.records ?? 0,
      parsed: {
        index: -1,
        line: err.lines ?? null,
        parseError: `bad CSV row: ${err.message}`,
        raw: (err.raw ?? '').slice(0, 8192),
        fatal: FATAL_CSV_ERRORS.has(err.code),
      },
    });
  });
  let inputFailed = false;
  input.once('error', (err) => {
    inputFailed = true;
    parser.destroy(err);
  });
  input.pipe(parser);

  function* skippedBefore(records: number): Generator<ParsedRecord> {
    while (skipped.length > 0 && skipped[0]!.recordsBefore < records) {
      const { parsed } = skipped.shift()!;
      // The rows before it have been counted by now, so their quoted CRLFs are known.
      yield { ...parsed, index: index++, line: parsed.line === null ? null : parsed.line - quotedCrlfs };
    }
  }

  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: Info }>) {
      for (const bad of skippedBefore(info.records)) {
        yield bad;
        if ('fatal' in bad && bad.fatal) return;
      }
      const breaks = lineBreaksIn(record);
      quotedCrlfs += breaks.crlfs;
      yield { index: index++, line: info.lines - quotedCrlfs - breaks.lines, record };
    }
  } catch (err) {
    if (inputFailed) throw err;
    yield* skippedBefore(Infinity);
    yield { index, line: null, parseError: `malformed CSV: ${(err as Error).message}`, raw: '', fatal: true };
    return;
  } finally {
    input.unpipe(parser);
  }
  for (const bad of skippedBefore(Infinity)) {
    yield bad;
    if ('fatal' in bad && bad.fatal) return;
  }
}

function csvHeader(header: string[]): string[] {
  const names = header.map((name) => name.trim());
  const seen = new Set<string>();
  for (const name of names) {
    if (name === '') throw new Error('the header row has an empty column name');
    if (seen.has(name)) throw new Error(`the header row names ${JSON.stringify(name)} twice`);
    seen.add(name);
  }
  return names;
}

/** Line breaks inside the record's quoted values: the record started that many lines before the one it ended on. */
function lineBreaksIn(record: Record<string, string>): { lines: number; crlfs: number } {
  let lines = 0;
  let crlfs = 0;
  for (const value of Object.values(record)) {
    if (!value.includes('\n') && !value.includes('\r')) continue;
    lines += value.match(/\r\n|\n|\r/g)!.length;
    crlfs += value.match(/\r\n/g)?.length ?? 0;
  }
  return { lines, crlfs };
}
