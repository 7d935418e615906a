import {
  DataImportPayload,
  JoblineError,
  importRecords,
  resolveRecordFormat,
  type BlobStore,
  type DataCollections,
} from '@jobline/libs';
import type { JobHandler } from './job-handler';

export interface DataHandlerDeps {
  /** The collections records are imported into and exported from. */
  data: DataCollections;
  blobs: BlobStore;
}

/**
 * `data.import`: streams a file from the blob store through the import engine. The job id is the import id, so a
 * second attempt, or a rerun after the runner died, resumes after the last batch written. Invalid records do not fail
 * the job: they are counted and stored with the import; only a file that cannot be read on fails it, for good.
 */
export function createDataImportHandler(deps: DataHandlerDeps): JobHandler {
  return async (job, ctx) => {
    const payload = DataImportPayload.parse(job.payload);
    // A job's payload comes from its client: a key outside the tenant's prefix would read another tenant's upload.
    if (!payload.blobKey.startsWith(`${job.tenantId}/`)) {
      throw new JoblineError('VALIDATION_FAILED', `blobKey must start with "${job.tenantId}/"`, {
        details: [{ field: 'payload.blobKey', message: `must start with "${job.tenantId}/"`, code: 'invalid_string' }],
      });
    }
    const info = await deps.blobs.stat(payload.blobKey);
    if (!info) throw new JoblineError('BLOB_NOT_FOUND', `no blob ${JSON.stringify(payload.blobKey)} to import`);
    const { format, input } = await resolveRecordFormat({
      input: await deps.blobs.get(payload.blobKey),
      format: payload.format,
      contentType: info.contentType,
      fileName: payload.blobKey,
    });
    const result = await importRecords({
      collections: deps.data,
      tenantId: job.tenantId,
      importId: job.id,
      resource: payload.resource,
      format,
      input,
      signal: ctx.signal,
      onProgress: (p) =>
        ctx.progress(p.processed, null, `${p.imported} imported, ${p.failed} failed, ${p.rowsPerSecond} rows/s`),
    });
    ctx.logger.info('import finished', { ...result });
    return {
      result: {
        importId: result.importId,
        resource: payload.resource,
        format,
        processed: result.processed,
        imported: result.imported,
        failed: result.failed,
        errorRate: result.errorRate,
        rowsPerSecond: result.rowsPerSecond,
        resumedAfter: result.resumedAfter,
      },
    };
  };
}
