import { CONTENT_TYPES, DataExportPayload, exportRecords } from '@jobline/libs';
import type { DataHandlerDeps } from './data-import-handler';
import type { JobHandler } from './job-handler';

/**
 * `data.export`: streams the export into the blob store under `<tenantId>/exports/<jobId>/<resource>.<format>`. The
 * store takes the bytes at its own pace (the export reads MongoDB no faster) and shows the blob only once it is
 * whole, so a rerun after a crash simply writes it again.
 */
export function createDataExportHandler(deps: DataHandlerDeps): JobHandler {
  return async (job, ctx) => {
    const request = DataExportPayload.parse(job.payload);
    const blobKey = `${job.tenantId}/exports/${job.id}/${request.resource}.${request.format}`;
    const contentType = CONTENT_TYPES[request.format];
    const run = exportRecords({
      collections: deps.data,
      tenantId: job.tenantId,
      request,
      signal: ctx.signal,
      onProgress: (p) => ctx.progress(p.exported, null, `${p.rowsPerSecond} rows/s`),
    });
    const stored = await deps.blobs.put(blobKey, run.stream, { contentType });
    const stats = run.stats();
    ctx.logger.info('export finished', { blobKey, bytes: stored.bytes, ...stats });
    return {
      result: {
        blobKey,
        contentType,
        bytes: stored.bytes,
        resource: request.resource,
        format: request.format,
        exported: stats.exported,
        rowsPerSecond: stats.rowsPerSecond,
      },
    };
  };
}
