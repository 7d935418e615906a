import { z } from 'zod';
import { FieldIssue } from '../errors/jobline-error';
import { IMPORT_ERROR_CODES, type DataCollections } from './data-collections';
import { RESOURCES } from './data-resources';
import { RECORD_FORMATS } from './record-format';

/** One rejected record, as clients see it. */
export const ImportRecordError = z.object({
  recordIndex: z
    .number()
    .int()
    .min(0)
    .describe('the record’s position in the file, from 0: NDJSON lines (blank ones not counted), items, CSV data rows'),
  line: z.number().int().min(1).nullable().describe('the line of the file the record starts on, where it has lines'),
  code: z
    .enum(IMPORT_ERROR_CODES)
    .describe(
      '`PARSE_ERROR` (not readable as a record), `VALIDATION_FAILED` (does not match the resource’s schema), ' +
        '`RELATION_NOT_FOUND` (refers to a record neither stored nor earlier in the file)',
    ),
  message: z.string(),
  details: z.array(FieldIssue).describe('each problem, naming its field as the record did'),
  record: z
    .unknown()
    .describe('the record as given (a CSV row as an object of strings), or its raw text when it did not parse'),
});
export type ImportRecordError = z.infer<typeof ImportRecordError>;

/** Where an import stands: its counts, and its first errors in file order. */
export const ImportReport = z.object({
  importId: z.string().describe('the import’s job id'),
  resource: z.enum([...RESOURCES, 'mixed']),
  format: z.enum(RECORD_FORMATS),
  processed: z.number().int().min(0).describe('records read so far, imported or rejected'),
  imported: z.number().int().min(0).describe('records written'),
  failed: z.number().int().min(0).describe('records rejected'),
  errorRate: z.number().min(0).max(1).describe('`failed / processed`'),
  startedAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable().describe('when the whole file was read; null until then'),
  inputError: z.string().nullable().describe('why the file could not be read to its end, when it could not'),
  errors: z.array(ImportRecordError).describe('the first 100 rejected records, in file order'),
});
export type ImportReport = z.infer<typeof ImportReport>;

/** One rejected record under the Bulk Data Import/Export API's names. */
export const ImportErrorSummary = z.object({
  recordIndex: ImportRecordError.shape.recordIndex,
  errorMessage: z.string().describe('`message`'),
  errorType: ImportRecordError.shape.code.describe('`code`'),
  recordData: z.unknown().describe('`record`'),
});

const UNTIL_BEGUN = '; null until the import has begun, and for books';

/**
 * An import's counts and first errors under the names clients of the Bulk Data Import/Export API read them by, beside
 * the report's own: the same figures, so that such a client reads a jobline import as it is.
 */
export const ImportSummary = z.object({
  resource: ImportReport.shape.resource.nullable().describe(`\`report.resource\`${UNTIL_BEGUN}`),
  totalRecords: z.number().int().min(0).nullable().describe(`\`report.processed\`${UNTIL_BEGUN}`),
  successCount: z.number().int().min(0).nullable().describe(`\`report.imported\`${UNTIL_BEGUN}`),
  errorCount: z.number().int().min(0).nullable().describe(`\`report.failed\`${UNTIL_BEGUN}`),
  errors: z
    .array(ImportErrorSummary)
    .nullable()
    .describe(
      `\`report.errors\`, each as \`recordIndex\`, \`errorMessage\`, \`errorType\`, \`recordData\`${UNTIL_BEGUN}`,
    ),
  completedAt: z.string().nullable().describe(`\`report.completedAt\`${UNTIL_BEGUN}`),
});
export type ImportSummary = z.infer<typeof ImportSummary>;

/** The report under the Bulk Data Import/Export API's names; all null when there is no report. */
export function importSummary(report: ImportReport | null): ImportSummary {
  if (!report) {
    return {
      resource: null,
      totalRecords: null,
      successCount: null,
      errorCount: null,
      errors: null,
      completedAt: null,
    };
  }
  return {
    resource: report.resource,
    totalRecords: report.processed,
    successCount: report.imported,
    errorCount: report.failed,
    errors: report.errors.map((e) => ({
      recordIndex: e.recordIndex,
      errorMessage: e.message,
      errorType: e.code,
      recordData: e.record,
    })),
    completedAt: report.completedAt,
  };
}

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
