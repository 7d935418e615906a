import { z } from 'zod';

export const RECORD_FORMATS = ['ndjson', 'json', 'csv'] as const;
/** NDJSON (one JSON object a line), a JSON array of objects, or CSV with a header row. */
export const RecordFormat = z.enum(RECORD_FORMATS);
export type RecordFormat = z.infer<typeof RecordFormat>;

/**
 * One record read from an input, numbered from 0 in file order. `line` is where it starts (from 1) for the formats
 * that have lines. A record that could not be read carries `parseError` and its raw text instead; `fatal` says the
 * reader could not find the next record after it (a JSON syntax error, an unclosed CSV quote), so nothing follows.
 */
export type ParsedRecord =
  | { index: number; line: number | null; record: unknown }
  | { index: number; line: number | null; parseError: string; raw: string; fatal: boolean };

export const CONTENT_TYPES: Record<RecordFormat, string> = {
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  csv: 'text/csv',
};

const BY_CONTENT_TYPE = new Map<string, RecordFormat>(
  Object.entries({
    'application/x-ndjson': 'ndjson',
    'application/ndjson': 'ndjson',
    'application/jsonl': 'ndjson',
    'application/x-jsonlines': 'ndjson',
    'application/jsonlines': 'ndjson',
    'application/json': 'json',
    'text/json': 'json',
    'text/csv': 'csv',
    'application/csv': 'csv',
  } as const),
);

const BY_EXTENSION = new Map<string, RecordFormat>([
  ['ndjson', 'ndjson'],
  ['jsonl', 'ndjson'],
  ['json', 'json'],
  ['csv', 'csv'],
]);

/**
 * The format an input's sender declared: a specific content type wins over the file name's extension. Generic types
 * (`text/plain`, `application/octet-stream`) and unknown extensions say nothing (null).
 */
export function formatFromHints(hints: { contentType?: string | null; fileName?: string | null }): RecordFormat | null {
  const type = hints.contentType?.split(';')[0]?.trim().toLowerCase();
  const byType = type ? BY_CONTENT_TYPE.get(type) : undefined;
  if (byType) return byType;
  const extension = hints.fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  return (extension ? BY_EXTENSION.get(extension) : undefined) ?? null;
}

/** The format of an input by its first bytes: `[` a JSON array, `{` NDJSON, anything else CSV (BOM and blanks aside). */
export function formatFromHead(head: Buffer): RecordFormat {
  const first = head
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()[0];
  if (first === '[') return 'json';
  if (first === '{') return 'ndjson';
  return 'csv';
}
