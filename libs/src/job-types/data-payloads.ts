import { z } from 'zod';
import { ImportTarget } from '../data/data-resources';
import { ExportRequest } from '../data/export-request';
import { RecordFormat } from '../data/record-format';
import { HTTP_URL_FORMAT } from './http-payload';

/**
 * `data.import`: loads a file from the blob store into the tenant's `users`, `articles` or `comments` (or all three,
 * `mixed`). The job id is the import id: a rerun after a crash resumes from the import's checkpoint.
 */
export const DataImportPayload = z
  .object({
    resource: ImportTarget,
    /** The file, under the tenant's own prefix (`<tenantId>/…`), e.g. where `POST /v1/imports` stored an upload. */
    blobKey: z.string().min(1).max(1024).optional(),
    /**
     * Or where to download it from (http or https, SSRF-guarded): the runner copies it to the blob store first, and
     * imports that copy, so that a rerun resumes on the same bytes.
     */
    url: z.string().max(2048).meta(HTTP_URL_FORMAT).optional(),
    /** The file's format; when absent, taken from the blob's content type, its key's extension, or its first bytes. */
    format: RecordFormat.optional(),
  })
  .strict()
  .refine((p) => (p.blobKey === undefined) !== (p.url === undefined), {
    message: 'give blobKey or url, one of them',
    path: ['blobKey'],
  })
  .meta({ oneOf: [{ required: ['blobKey'] }, { required: ['url'] }] });
export type DataImportPayload = z.infer<typeof DataImportPayload>;

/**
 * `data.export`: writes the tenant's records of one resource, filtered and projected, to the blob store at
 * `<tenantId>/exports/<jobId>/<resource>.<format>`; the job's result names the key.
 */
export const DataExportPayload = ExportRequest;
export type DataExportPayload = z.infer<typeof DataExportPayload>;
