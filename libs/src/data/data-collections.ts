import type { Collection, Db } from 'mongodb';
import type { FieldIssue } from '../errors/jobline-error';
import type { Resource } from './data-resources';
import type { RecordFormat } from './record-format';

/**
 * A stored record of any resource: the record's own fields (relations as internal ids: `authorId`, `articleId`),
 * its tenant, and when it was created (the record's `createdAt`, else when it was first imported) and last written.
 */
export interface RecordDocument {
  _id: string;
  tenantId: string;
  externalId: string;
  createdAt: Date;
  updatedAt: Date;
  [field: string]: unknown;
}

export const IMPORT_ERROR_CODES = ['PARSE_ERROR', 'VALIDATION_FAILED', 'RELATION_NOT_FOUND'] as const;
/**
 * Why one record was not imported: `PARSE_ERROR` (not readable as a record: bad JSON, a CSV row of the wrong width),
 * `VALIDATION_FAILED` (does not match the resource's schema), `RELATION_NOT_FOUND` (refers to a record that is
 * neither stored nor earlier in the same file).
 */
export type ImportErrorCode = (typeof IMPORT_ERROR_CODES)[number];

/** One rejected record of an import; `_id` is `<importId>:<recordIndex>`, so a re-run rewrites rather than adds. */
export interface ImportErrorDocument {
  _id: string;
  importId: string;
  tenantId: string;
  /** The record's position in the file, from 0: lines for NDJSON (blank ones not counted), items, CSV data rows. */
  recordIndex: number;
  /** The line of the file the record starts on, from 1, where the format has lines. */
  line: number | null;
  code: ImportErrorCode;
  message: string;
  details: FieldIssue[];
  /**
   * The record as JSON text (the raw text when it did not parse), cut at 8 KiB. Text rather than a document: client
   * keys may hold `$` or `.`, which MongoDB does not store as field names everywhere.
   */
  record: string;
  createdAt: Date;
}

/**
 * How far an import got: every record up to `lastIndex` is written (or its error is), and the counts cover exactly
 * those records. Written after each batch, so a re-run with the same import id resumes after `lastIndex`.
 */
export interface ImportCheckpointDocument {
  _id: string;
  tenantId: string;
  resource: Resource | 'mixed';
  format: RecordFormat;
  /** -1 before the first batch. */
  lastIndex: number;
  processed: number;
  imported: number;
  failed: number;
  startedAt: Date;
  updatedAt: Date;
  /** When the whole input was read; null while the import is under way or stopped early. */
  completedAt: Date | null;
  /** Why the input could not be read on (malformed JSON or CSV), when that ended the import. */
  inputError: string | null;
}

export interface DataCollections {
  records: Record<Resource, Collection<RecordDocument>>;
  importErrors: Collection<ImportErrorDocument>;
  importCheckpoints: Collection<ImportCheckpointDocument>;
}

export function dataCollections(db: Db): DataCollections {
  return {
    records: {
      users: db.collection<RecordDocument>('users'),
      articles: db.collection<RecordDocument>('articles'),
      comments: db.collection<RecordDocument>('comments'),
    },
    importErrors: db.collection<ImportErrorDocument>('import_errors'),
    importCheckpoints: db.collection<ImportCheckpointDocument>('import_checkpoints'),
  };
}

export async function ensureDataIndexes(c: DataCollections): Promise<void> {
  for (const collection of Object.values(c.records)) {
    // The identity an import upserts by; also what keeps one tenant's external id to one document.
    await collection.createIndex({ tenantId: 1, externalId: 1 }, { unique: true });
    // Exports filtered by a createdAt range.
    await collection.createIndex({ tenantId: 1, createdAt: 1 });
  }
  // Exports of one author's articles, of one article's comments.
  await c.records.articles.createIndex({ tenantId: 1, authorId: 1 });
  await c.records.comments.createIndex({ tenantId: 1, articleId: 1 });
  // An import's first errors, in file order.
  await c.importErrors.createIndex({ importId: 1, recordIndex: 1 });
}
