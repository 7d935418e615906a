import { z } from 'zod';
import { FieldIssue } from '../errors/jobline-error';
import { IMPORT_ERROR_CODES, type DataCollections } from './data-collections';
import { RESOURCES } from './data-resources';
import { RECORD_FORMATS } from './record-format';

/** One rejected record, as clients see it. */
export const ImportRecordError = z.object({
  recordIndex: z.number().int().min(0),
  line: z.number().int().min(1).nullable(),
  code: z.enum(IMPORT_ERROR_CODES),
  message: z.string(),
  details: z.array(FieldIssue),
  /** The record as given (parsed JSON; a CSV row as an object of strings), or its raw text when it did not parse. */
  record: z.unknown(),
});
export type ImportRecordError = z.infer<typeof ImportRecordError>;

/** Where an import stands: its counts, and its first errors in file order. */
export const ImportReport = z.object({
  importId: z.string(),
  resource: z.enum([...RESOURCES, 'mixed']),
  format: z.enum(RECORD_FORMATS),
  processed: z.number().int().min(0),
  imported: z.number().int().min(0),
  failed: z.number().int().min(0),
  errorRate: z.number().min(0).max(1),
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
  /** Why the input could not be read to its end, when it could not. */
  inputError: z.string().nullable(),
  errors: z.array(ImportRecordError),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** The report of a tenant's import, with its first `errorLimit` errors; null when there is no such import. */
export async function readImportReport(
  c: DataCollections,
  tenantId: string,
  importId: string,
  { errorLimit = 100 }: { errorLimit?: number } = {},
): Promise<ImportReport | null> {
  const checkpoint = await c.importCheckpoints.findOne({ _id: importId, tenantId });
  if (!checkpoint) return null;
  const errors = await c.importErrors.find({ importId, tenantId }).sort({ recordIndex: 1 }).limit(errorLimit).toArray();
  return {
    importId,
    resource: checkpoint.resource,
    format: checkpoint.format,
    processed: checkpoint.processed,
    imported: checkpoint.imported,
    failed: checkpoint.failed,
    errorRate: checkpoint.processed === 0 ? 0 : checkpoint.failed / checkpoint.processed,
    startedAt: checkpoint.startedAt.toISOString(),
    updatedAt: checkpoint.updatedAt.toISOString(),
    completedAt: checkpoint.completedAt?.toISOString() ?? null,
    inputError: checkpoint.inputError,
    errors: errors.map((e) => ({
      recordIndex: e.recordIndex,
      line: e.line,
      code: e.code,
      message: e.message,
      details: e.details,
      record: parsedOrText(e.record),
    })),
  };
}

function parsedOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
