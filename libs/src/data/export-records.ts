import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JoblineError } from '../errors/jobline-error';
import { csvRow } from './csv-cells';
import type { DataCollections, RecordDocument } from './data-collections';
import { RECORD_FIELDS, RELATIONS, type Relation } from './data-resources';
import { ExportRequest, exportQuery, type ExportRequestInput } from './export-request';
import { canonicalField } from './record-aliases';

export interface ExportProgress {
  exported: number;
  rowsPerSecond: number;
}

export interface ExportStats extends ExportProgress {
  durationMs: number;
}

export interface ExportOptions {
  collections: DataCollections;
  tenantId: string;
  /** Checked here again (a `VALIDATION_FAILED` error names what is wrong), so that filters never reach MongoDB raw. */
  request: ExportRequestInput;
  /** Records read, mapped and written per step; the unit of backpressure. @defaultValue 500 */
  pageSize?: number;
  /** Checked between pages: once aborted, the stream ends with the reason as its error. */
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
  /** Least time between two `onProgress` calls; the last one, at the end, always comes. @defaultValue 1000 */
  progressIntervalMs?: number;
  now?: () => Date;
}

export interface ExportRun {
  /** The export's bytes. Read at the consumer's pace: nothing is fetched from MongoDB ahead of what it takes in. */
  stream: Readable;
  /** Counts so far; final once `stream` has ended. */
  stats(): ExportStats;
}

/** Relations resolved back to external ids, remembered up to this many before starting over. */
const RELATION_CACHE_SIZE = 100_000;

/**
 * Streams a tenant's records of one resource, filtered and projected, as NDJSON, a JSON array or CSV (header row,
 * lists as JSON in their cell, see `csv-cells.ts`). Relations go out as the external ids they were imported with:
 * each page's internal ids are looked up in one query per related resource. The stream is pull-based: a page is read
 * from MongoDB only when the consumer wants more bytes, so a slow destination holds the export back instead of
 * filling memory.
 */
export function exportRecords(options: ExportOptions): ExportRun {
  const request = parseRequest(options.request);
  const { collections, tenantId, signal } = options;
  const now = options.now ?? (() => new Date());
  const pageSize = options.pageSize ?? 500;
  const resource = request.resource;
  // Each as asked (a field may be asked for by an alias, and is written under it), and as stored.
  const fields: readonly string[] = request.fields ?? RECORD_FIELDS[resource];
  const canonical = fields.map((field) => canonicalField(resource, field));
  const relations = RELATIONS[resource].filter((r) => canonical.includes(r.field));
  const resolve = relationResolver(collections, tenantId);
  const started = now().getTime();
  let exported = 0;
  const stats = (): ExportStats => {
    const durationMs = now().getTime() - started;
    return { exported, rowsPerSecond: Math.round(exported / Math.max(durationMs / 1000, 0.001)), durationMs };
  };
  const interval = options.progressIntervalMs ?? 1000;
  let lastReport = -Infinity;
  const report = (force: boolean) => {
    const at = now().getTime();
    if (!options.onProgress || (!force && at - lastReport < interval)) return;
    lastReport = at;
    const { durationMs: _durationMs, ...progress } = stats();
    options.onProgress(progress);
  };

  const projection: Record<string, 1 | 0> = { _id: 0 };
  for (const field of canonical) projection[relations.find((r) => r.field === field)?.storedAs ?? field] = 1;

  const render = async (page: RecordDocument[]): Promise<string> => {
    const externalIds = await resolve(page, relations);
    let text = '';
    for (const doc of page) {
      const record = recordOf(doc, fields, canonical, relations, externalIds);
      if (request.format === 'csv') text += csvRow(fields.map((f) => record[f]));
      else if (request.format === 'ndjson') text += `${JSON.stringify(record)}\n`;
      else text += `${exported === 0 ? '\n' : ',\n'}${JSON.stringify(record)}`;
      exported += 1;
    }
    return text;
  };

  async function* chunks(): AsyncGenerator<string> {
    const cursor = collections.records[resource].find(exportQuery(tenantId, request), {
      projection,
      batchSize: pageSize,
    });
    try {
      if (request.format === 'csv') yield csvRow(fields);
      if (request.format === 'json') yield '[';
      let page: RecordDocument[] = [];
      for await (const doc of cursor) {
        page.push(doc);
        if (page.length < pageSize) continue;
        signal?.throwIfAborted();
        yield await render(page);
        page = [];
        report(false);
      }
      signal?.throwIfAborted();
      if (page.length > 0) yield await render(page);
      if (request.format === 'json') yield exported === 0 ? ']\n' : '\n]\n';
      report(true);
    } finally {
      await cursor.close();
    }
  }

  return { stream: Readable.from(chunks(), { objectMode: false }), stats };
}

/** Runs an export into `output`, honouring its backpressure; resolves with the counts once `output` has finished. */
export async function writeExport(options: ExportOptions, output: Writable): Promise<ExportStats> {
  const run = exportRecords(options);
  await pipeline(run.stream, output);
  return run.stats();
}

function parseRequest(input: ExportRequestInput): ExportRequest {
  const parsed = ExportRequest.safeParse(input);
  if (parsed.success) return parsed.data;
  const details = parsed.error.issues.map((issue) => ({
    field: issue.path.join('.') || '(request)',
    message: issue.message,
    code: issue.code,
  }));
  throw new JoblineError(
    'VALIDATION_FAILED',
    `invalid export request: ${details.map((d) => `${d.field}: ${d.message}`).join('; ')}`,
    {
      details,
    },
  );
}

/**
 * The record as it leaves: the asked fields in order under the names asked (`names[i]` is `fields[i]`'s), relations as
 * external ids, dates as ISO 8601.
 */
function recordOf(
  doc: RecordDocument,
  names: readonly string[],
  fields: readonly string[],
  relations: readonly Relation[],
  externalIds: Map<string, string>,
): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  fields.forEach((field, i) => {
    const relation = relations.find((r) => r.field === field);
    const value = relation ? externalIds.get(doc[relation.storedAs] as string) : doc[field];
    if (value === undefined || value === null) return;
    record[names[i]!] = value instanceof Date ? value.toISOString() : value;
  });
  return record;
}

/** Maps the internal ids a page refers to back to external ids, remembering what it learnt for later pages. */
function relationResolver(c: DataCollections, tenantId: string) {
  const known = new Map<string, string>();
  return async (page: RecordDocument[], relations: readonly Relation[]): Promise<Map<string, string>> => {
    const resolved = new Map<string, string>();
    for (const relation of relations) {
      const missing = new Set<string>();
      for (const doc of page) {
        const id = doc[relation.storedAs];
        if (typeof id !== 'string' || resolved.has(id)) continue;
        const externalId = known.get(id);
        if (externalId === undefined) missing.add(id);
        else resolved.set(id, externalId);
      }
      if (missing.size === 0) continue;
      if (known.size + missing.size > RELATION_CACHE_SIZE) known.clear();
      const targets = await c.records[relation.target]
        .find({ _id: { $in: [...missing] }, tenantId }, { projection: { externalId: 1 } })
        .toArray();
      for (const target of targets) {
        known.set(target._id, target.externalId);
        resolved.set(target._id, target.externalId);
      }
    }
    return resolved;
  };
}
