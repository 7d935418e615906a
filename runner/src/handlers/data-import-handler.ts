import type { BlobStore } from '@jobline/libs/blob';
import { DataImportPayload, JoblineError } from '@jobline/libs/core';
import type { DataCollections } from '@jobline/libs/data';
import type { GuardedHttpClient } from '@jobline/libs/http';
import { importRecords } from '../record-import/import-records';
import { resolveRecordFormat } from '../record-import/parse-records';
import type { JobHandler } from './job-handler';

export interface DataHandlerDeps {
  /** The collections records are imported into and exported from. */
  data: DataCollections;
  blobs: BlobStore;
  /** Downloads the file of an import given by `url`. */
  http: GuardedHttpClient;
  /** Largest file an import may download. @defaultValue 1 GiB */
  maxDownloadBytes?: number;
}

/**
 * Copies the file at `url` to the blob store, streamed, unless an earlier attempt did: the import then reads the copy,
 * so that a rerun resumes on the same bytes even if the source changed meanwhile.
 */
async function downloadOnce(deps: DataHandlerDeps, url: string, key: string, signal: AbortSignal): Promise<void> {
  if (await deps.blobs.stat(key)) return;
  const response = await deps.http.stream({
    url,
    signal,
    maxBytes: deps.maxDownloadBytes ?? 1024 ** 3,
    timeoutMs: 30_000,
  });
  if (response.status < 200 || response.status >= 300) {
    response.body.destroy();
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    throw new JoblineError('OUTBOUND_UNEXPECTED_STATUS', `downloading the import answered ${response.status}`, {
      retryable,
    });
  }
  const type = response.headers['content-type'];
  await deps.blobs.put(key, response.body, { contentType: typeof type === 'string' ? type : undefined });
}

/**
 * `data.import`: streams a file from the blob store through the import engine. The job id is the import id, so a
 * second attempt, or a rerun after the runner died, resumes after the last batch written. Invalid records do not fail
 * the job: they are counted and stored with the import; only a file that cannot be read on fails it, for good.
 */
export function createDataImportHandler(deps: DataHandlerDeps): JobHandler {
  return async (job, ctx) => {
    const payload = DataImportPayload.parse(job.payload);
    let blobKey = payload.blobKey ?? `${job.tenantId}/imports/${job.id}/download`;
    if (payload.url !== undefined) {
      const name = new URL(payload.url).pathname.split('/').pop() || 'download';
      blobKey = `${job.tenantId}/imports/${job.id}/${name.replace(/[^\w.-]+/g, '_').replace(/^\.+/, '') || 'download'}`;
      await downloadOnce(deps, payload.url, blobKey, ctx.signal);
    }
    // A job's payload comes from its client: a key outside the tenant's prefix would read another tenant's upload.
    if (!blobKey.startsWith(`${job.tenantId}/`)) {
      throw new JoblineError('VALIDATION_FAILED', `blobKey must start with "${job.tenantId}/"`, {
        details: [{ field: 'payload.blobKey', message: `must start with "${job.tenantId}/"`, code: 'invalid_string' }],
      });
    }
    const info = await deps.blobs.stat(blobKey);
    if (!info) throw new JoblineError('BLOB_NOT_FOUND', `no blob ${JSON.stringify(blobKey)} to import`);
    const { format, input } = await resolveRecordFormat({
      input: await deps.blobs.get(blobKey),
      format: payload.format,
      contentType: info.contentType,
      fileName: blobKey,
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
