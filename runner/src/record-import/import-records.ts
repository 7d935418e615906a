import type { Readable } from 'node:stream';
import type { AnyBulkWriteOperation } from 'mongodb';
import { JoblineError, type FieldIssue } from '@jobline/libs/core';
import {
  LIST_FIELDS,
  RECORD_FIELDS,
  RECORD_SCHEMAS,
  RELATIONS,
  RESOURCES,
  Resource,
  internalId,
  recordFromCsvRow,
  withCanonicalFields,
  type DataCollections,
  type ImportErrorCode,
  type ImportErrorDocument,
  type ImportTarget,
  type ParsedRecord,
  type RecordDocument,
  type RecordFormat,
  type ResourceRecord,
} from '@jobline/libs/data';
import { parseRecords } from './parse-records';

export interface ImportProgress {
  /** Records read so far (written or rejected), including those of earlier runs of the same import. */
  processed: number;
  imported: number;
  failed: number;
  /** Records processed per second by this run. */
  rowsPerSecond: number;
  /** `failed / processed`, from 0 to 1. */
  errorRate: number;
}

export interface ImportResult extends ImportProgress {
  importId: string;
  /** The last record index an earlier run had written, when this run resumed after it; null for a fresh start. */
  resumedAfter: number | null;
  durationMs: number;
}

export interface ImportOptions {
  collections: DataCollections;
  tenantId: string;
  /** Names the import (the job id): a later run with the same id resumes after the checkpoint of the earlier one. */
  importId: string;
  resource: ImportTarget;
  format: RecordFormat;
  /** The file; read once from its start, and consumed or destroyed by the time the import settles. */
  input: Readable;
  /** Records written per round trip; also the checkpoint interval. @defaultValue 1000 */
  batchSize?: number;
  /** Checked between records: once aborted, the import stops at the last written batch and throws the reason. */
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  /** Least time between two `onProgress` calls; the last one, at the end, always comes. @defaultValue 1000 */
  progressIntervalMs?: number;
  now?: () => Date;
}

/** A record after validation: ready to write (relations still unchecked), or rejected. */
type Prepared =
  | {
      ok: true;
      index: number;
      resource: Resource;
      record: ResourceRecord;
      /** The fields the record gave under another name (see `record-aliases.ts`), so that problems name them so. */
      givenAs: ReadonlyMap<string, string>;
      source: unknown;
      line: number | null;
    }
  | { ok: false; index: number; error: RecordError };

interface RecordError {
  code: ImportErrorCode;
  message: string;
  details: FieldIssue[];
  line: number | null;
  source: unknown;
}

/** Records written before the rest of their kind within one batch, so that relations point backwards only. */
const WRITE_ORDER: readonly Resource[] = ['users', 'articles', 'comments'];
const MAX_STORED_RECORD_CHARS = 8192;

/**
 * Imports a file of records into a tenant's collections. Each record is parsed, validated against its resource's
 * schema and checked for relations (to stored records, or to records earlier in the same file); valid ones are
 * upserted by external id in batches, rejected ones are stored in `import_errors` with their index, code and
 * message. After each batch a checkpoint records how far the import got and its counts, so a run that stopped (a
 * crash, an abort, a lost connection) is resumed by running it again with the same `importId`: records up to the
 * checkpoint are skipped, and those after it are written again, which upserts make harmless.
 *
 * Reading and validating the next batch overlaps the writes of the previous one; the writes themselves are strictly
 * one batch after the other, since a batch's relation checks must see the batches before it.
 *
 * A file whose syntax breaks beyond recovery (JSON, or an unclosed CSV quote) is imported up to that point; the
 * break is recorded as an error of its own and the import throws a non-retryable `VALIDATION_FAILED`.
 */
export async function importRecords(options: ImportOptions): Promise<ImportResult> {
  const { collections, tenantId, importId, resource, format, input, signal } = options;
  const batchSize = options.batchSize ?? 1000;
  const now = options.now ?? (() => new Date());
  const startedAt = now().getTime();

  const checkpoint = await openCheckpoint(options, now());
  const resumedAfter = checkpoint.lastIndex >= 0 ? checkpoint.lastIndex : null;
  const counts = { processed: checkpoint.processed, imported: checkpoint.imported, failed: checkpoint.failed };
  let processedThisRun = 0;
  const progress = (): ImportProgress => {
    const seconds = Math.max((now().getTime() - startedAt) / 1000, 0.001);
    return {
      ...counts,
      rowsPerSecond: Math.round(processedThisRun / seconds),
      errorRate: counts.processed === 0 ? 0 : counts.failed / counts.processed,
    };
  };
  const result = (): ImportResult => ({
    importId,
    ...progress(),
    resumedAfter,
    durationMs: now().getTime() - startedAt,
  });
  if (checkpoint.completedAt) {
    input.destroy();
    return result();
  }

  const interval = options.progressIntervalMs ?? 1000;
  let lastReport = -Infinity;
  const report = (force: boolean) => {
    if (!options.onProgress) return;
    const at = now().getTime();
    if (!force && at - lastReport < interval) return;
    lastReport = at;
    options.onProgress(progress());
  };

  const writeBatch = async (batch: Prepared[]) => {
    const written = await writePrepared(collections, tenantId, importId, batch, now());
    counts.processed += batch.length;
    counts.imported += written;
    counts.failed += batch.length - written;
    processedThisRun += batch.length;
    await collections.importCheckpoints.updateOne(
      { _id: importId },
      { $set: { lastIndex: batch.at(-1)!.index, ...counts, updatedAt: now() } },
    );
    report(false);
  };

  let inFlight: Promise<void> = Promise.resolve();
  const submit = async (batch: Prepared[]) => {
    await inFlight;
    if (signal?.aborted) return;
    inFlight = writeBatch(batch);
    // Awaited before the next batch or at the end; until then a failure must not count as unhandled.
    inFlight.catch(() => undefined);
  };

  let batch: Prepared[] = [];
  let inputError: string | null = null;
  try {
    for await (const parsed of parseRecords(input, format)) {
      if (signal?.aborted) break;
      if (parsed.index <= checkpoint.lastIndex) continue;
      batch.push(prepare(parsed, resource, format));
      if ('parseError' in parsed && parsed.fatal) {
        inputError = `record ${parsed.index}: ${parsed.parseError}`;
        break;
      }
      if (batch.length >= batchSize) {
        await submit(batch);
        batch = [];
      }
    }
    if (signal?.aborted) {
      await inFlight;
      signal.throwIfAborted();
    }
    if (batch.length > 0) await submit(batch);
    await inFlight;
  } finally {
    await inFlight.catch(() => undefined);
  }

  await collections.importCheckpoints.updateOne(
    { _id: importId },
    { $set: inputError ? { inputError, updatedAt: now() } : { completedAt: now(), updatedAt: now() } },
  );
  report(true);
  if (inputError) {
    throw new JoblineError('VALIDATION_FAILED', `the ${format} input is malformed at ${inputError}`, {
      retryable: false,
    });
  }
  return result();
}

async function openCheckpoint(options: ImportOptions, at: Date) {
  const { collections, tenantId, importId, resource, format } = options;
  const existing = await collections.importCheckpoints.findOneAndUpdate(
    { _id: importId },
    {
      $setOnInsert: {
        tenantId,
        resource,
        format,
        lastIndex: -1,
        processed: 0,
        imported: 0,
        failed: 0,
        startedAt: at,
        updatedAt: at,
        completedAt: null,
        inputError: null,
      },
    },
    { upsert: true, returnDocument: 'after' },
  );
  if (!existing) throw new Error(`import checkpoint ${importId} was neither found nor created`);
  if (existing.tenantId !== tenantId || existing.resource !== resource || existing.format !== format) {
    throw new JoblineError(
      'VALIDATION_FAILED',
      `import ${importId} was started for ${existing.resource} in ${existing.format}; it cannot go on as ${resource} in ${format}`,
      { retryable: false },
    );
  }
  return existing;
}

function prepare(parsed: ParsedRecord, target: ImportTarget, format: RecordFormat): Prepared {
  const { index, line } = parsed;
  if ('parseError' in parsed) {
    return {
      ok: false,
      index,
      error: { code: 'PARSE_ERROR', message: parsed.parseError, details: [], line, source: parsed.raw },
    };
  }
  const source = parsed.record;
  const rejected = (code: ImportErrorCode, details: FieldIssue[]): Prepared => ({
    ok: false,
    index,
    error: { code, message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details, line, source },
  });
  if (typeof source !== 'object' || source === null || Array.isArray(source)) {
    const got = Array.isArray(source) ? 'an array' : source === null ? 'null' : `a ${typeof source}`;
    return rejected('VALIDATION_FAILED', [
      { field: '(record)', message: `expected an object, got ${got}`, code: 'invalid_type' },
    ]);
  }
  let resource: Resource;
  if (target === 'mixed') {
    const named = Resource.safeParse((source as Record<string, unknown>).resource);
    if (!named.success) {
      return rejected('VALIDATION_FAILED', [
        { field: 'resource', message: `expected one of ${RESOURCES.join(', ')}`, code: 'invalid_value' },
      ]);
    }
    resource = named.data;
  } else {
    resource = target;
  }
  const given = format === 'csv' ? recordFromCsvRow(source as Record<string, string>, LIST_FIELDS[resource]) : source;
  const { record: input, givenAs, conflicts } = withCanonicalFields(resource, given as Record<string, unknown>);
  if (conflicts.length > 0) return rejected('VALIDATION_FAILED', conflicts);
  const checked = RECORD_SCHEMAS[resource].safeParse(input);
  if (!checked.success) {
    return rejected(
      'VALIDATION_FAILED',
      checked.error.issues.map((issue) => {
        const [first, ...rest] = issue.path.map(String);
        return {
          field: first === undefined ? '(record)' : [givenAs.get(first) ?? first, ...rest].join('.'),
          message: issue.message,
          code: issue.code,
        };
      }),
    );
  }
  return { ok: true, index, resource, record: checked.data, givenAs, source, line };
}

/**
 * Checks the relations of a batch's valid records, writes those that hold (users, then articles, then comments) and
 * the errors of the rest. Returns how many records were written.
 */
async function writePrepared(
  c: DataCollections,
  tenantId: string,
  importId: string,
  batch: Prepared[],
  at: Date,
): Promise<number> {
  const existing = await storedTargets(c, tenantId, batch);
  const earlierInBatch: Record<Resource, Set<string>> = { users: new Set(), articles: new Set(), comments: new Set() };
  const writes: Record<Resource, AnyBulkWriteOperation<RecordDocument>[]> = { users: [], articles: [], comments: [] };
  const errors: AnyBulkWriteOperation<ImportErrorDocument>[] = [];
  const reject = (index: number, error: RecordError) => {
    const doc: ImportErrorDocument = {
      _id: `${importId}:${index}`,
      importId,
      tenantId,
      recordIndex: index,
      line: error.line,
      code: error.code,
      message: error.message,
      details: error.details,
      record: storedRecordText(error.source),
      createdAt: at,
    };
    errors.push({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } });
  };

  for (const item of batch) {
    if (!item.ok) {
      reject(item.index, item.error);
      continue;
    }
    const fields = item.record as unknown as Record<string, unknown>;
    const missing: FieldIssue[] = [];
    for (const relation of RELATIONS[item.resource]) {
      const target = internalId(tenantId, relation.target, fields[relation.field] as string);
      if (!existing[relation.target].has(target) && !earlierInBatch[relation.target].has(target)) {
        missing.push({
          field: item.givenAs.get(relation.field) ?? relation.field,
          message: `no ${relation.target} record with externalId ${String(fields[relation.field])}`,
          code: 'relation_not_found',
        });
      }
    }
    if (missing.length > 0) {
      reject(item.index, {
        code: 'RELATION_NOT_FOUND',
        message: missing.map((d) => `${d.field}: ${d.message}`).join('; '),
        details: missing,
        line: item.line,
        source: item.source,
      });
      continue;
    }
    const id = internalId(tenantId, item.resource, fields.externalId as string);
    earlierInBatch[item.resource].add(id);
    writes[item.resource].push(upsertOf(tenantId, item.resource, id, fields, at));
  }

  let written = 0;
  for (const resource of WRITE_ORDER) {
    if (writes[resource].length === 0) continue;
    // Unordered, so that the store may apply them as it likes, unless the batch holds a record twice: then in order,
    // so that it ends as its later version.
    const ordered = earlierInBatch[resource].size < writes[resource].length;
    await c.records[resource].bulkWrite(writes[resource], { ordered });
    written += writes[resource].length;
  }
  if (errors.length > 0) await c.importErrors.bulkWrite(errors, { ordered: false });
  return written;
}

/** The internal ids, among those the batch's relations point to, that are stored already. */
async function storedTargets(
  c: DataCollections,
  tenantId: string,
  batch: Prepared[],
): Promise<Record<Resource, Set<string>>> {
  const wanted: Record<Resource, Set<string>> = { users: new Set(), articles: new Set(), comments: new Set() };
  for (const item of batch) {
    if (!item.ok) continue;
    const fields = item.record as unknown as Record<string, unknown>;
    for (const relation of RELATIONS[item.resource]) {
      wanted[relation.target].add(internalId(tenantId, relation.target, fields[relation.field] as string));
    }
  }
  const found: Record<Resource, Set<string>> = { users: new Set(), articles: new Set(), comments: new Set() };
  for (const resource of RESOURCES) {
    if (wanted[resource].size === 0) continue;
    const docs = await c.records[resource]
      .find({ _id: { $in: [...wanted[resource]] }, tenantId }, { projection: { _id: 1 } })
      .toArray();
    for (const doc of docs) found[resource].add(doc._id);
  }
  return found;
}

/**
 * The upsert of one record: every field of the record set, optional ones it lacks unset (an import states the whole
 * record), relations as internal ids. `createdAt` is the record's, else the time of its first import.
 */
function upsertOf(
  tenantId: string,
  resource: Resource,
  id: string,
  fields: Record<string, unknown>,
  at: Date,
): AnyBulkWriteOperation<RecordDocument> {
  const set: Record<string, unknown> = { updatedAt: at };
  const unset: Record<string, ''> = {};
  const relations = RELATIONS[resource];
  for (const field of RECORD_FIELDS[resource]) {
    const value = fields[field];
    const relation = relations.find((r) => r.field === field);
    if (field === 'externalId') continue;
    if (relation) set[relation.storedAs] = internalId(tenantId, relation.target, value as string);
    else if (field === 'createdAt') {
      if (value !== undefined) set.createdAt = new Date(value as string);
    } else if (value === undefined || value === null) unset[field] = '';
    else set[field] = value;
  }
  const onInsert: Record<string, unknown> = { tenantId, externalId: fields.externalId };
  if (fields.createdAt === undefined) onInsert.createdAt = at;
  return {
    updateOne: {
      // By `_id`, which the tenant and external id determine: the primary index, not the secondary unique one.
      filter: { _id: id },
      update: { $set: set, $setOnInsert: onInsert, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
      upsert: true,
    },
  };
}

function storedRecordText(source: unknown): string {
  const text = typeof source === 'string' ? source : (JSON.stringify(source) ?? String(source));
  return text.length > MAX_STORED_RECORD_CHARS ? text.slice(0, MAX_STORED_RECORD_CHARS) : text;
}
