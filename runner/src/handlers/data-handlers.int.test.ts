import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import {
  connectMongo,
  createFileBlobStore,
  createLogger,
  dataCollections,
  ensureDataIndexes,
  evolve,
  newEvent,
  readImportReport,
  DEFAULT_BACKOFF,
  type BlobStore,
  type DataCollections,
  type Job,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { toErrorInfo } from '../execute-job';
import { createDataExportHandler } from './data-export-handler';
import { createDataImportHandler } from './data-import-handler';
import type { HandlerContext } from './job-handler';

const logger = createLogger({ service: 'test', level: 'error' });

function job(tenantId: string, type: string, payload: unknown): Job {
  const requested = newEvent(
    'JobRequested',
    { jobId: randomUUID(), tenantId, source: 'producer', now: new Date() },
    {
      type,
      payload,
      runAt: null,
      maxAttempts: 3,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      callbackUrl: null,
      notify: null,
      metadata: {},
      idempotencyKey: null,
    },
  );
  return evolve(null, requested)!;
}

function context(progress: HandlerContext['progress'] = () => undefined): HandlerContext {
  return { signal: new AbortController().signal, idempotencyKey: 'key', attempt: 1, progress, logger };
}

describe('data.import and data.export handlers', () => {
  let mongo: MongoConnection;
  let data: DataCollections;
  let blobs: BlobStore;
  let root: string;
  const ns = testNamespace();

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    data = dataCollections(mongo.db);
    await ensureDataIndexes(data);
    root = await mkdtemp(join(tmpdir(), 'jobline-data-handlers-'));
    blobs = createFileBlobStore({ root });
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    await mongo.client.close();
    await rm(root, { recursive: true, force: true });
  });

  it('imports an uploaded CSV (format from its content type), then exports it to the blob store', async () => {
    const tenant = `t${randomUUID().slice(0, 8)}`;
    const [a, b] = [randomUUID(), randomUUID()];
    const csv = `externalId,username,email,bio\r\n${a},ann,ann@example.com,"Hi, I write"\r\n${b},bob,bob-at-example,\r\n`;
    await blobs.put(`${tenant}/uploads/1`, csv, { contentType: 'text/csv' });
    const importJob = job(tenant, 'data.import', { resource: 'users', blobKey: `${tenant}/uploads/1` });
    const progress: number[] = [];
    const imported = await createDataImportHandler({ data, blobs })(
      importJob,
      context((n) => progress.push(n)),
    );

    expect(imported.result).toMatchObject({
      importId: importJob.id,
      format: 'csv',
      processed: 2,
      imported: 1,
      failed: 1,
    });
    expect(progress.at(-1)).toBe(2);
    const report = await readImportReport(data, tenant, importJob.id);
    expect(report!.errors).toMatchObject([{ recordIndex: 1, code: 'VALIDATION_FAILED', line: 3 }]);

    // A rerun of the same job (the runner died before recording its outcome) finds the import done.
    const rerun = await createDataImportHandler({ data, blobs })(importJob, context());
    expect(rerun.result).toMatchObject({ processed: 2, imported: 1, failed: 1, resumedAfter: 1 });
    expect(await data.records.users.countDocuments({ tenantId: tenant })).toBe(1);

    const exportJob = job(tenant, 'data.export', { resource: 'users', format: 'csv', fields: ['externalId', 'bio'] });
    const exported = await createDataExportHandler({ data, blobs })(exportJob, context());
    const blobKey = `${tenant}/exports/${exportJob.id}/users.csv`;
    expect(exported.result).toMatchObject({ blobKey, contentType: 'text/csv', exported: 1 });
    expect(await text(await blobs.get(blobKey))).toBe(`externalId,bio\r\n${a},"Hi, I write"\r\n`);
    expect((await blobs.stat(blobKey))!.contentType).toBe('text/csv');
  });

  it("refuses another tenant's upload, a missing blob and an invalid payload, for good", async () => {
    const handler = createDataImportHandler({ data, blobs });
    const refused = async (j: Job) => {
      try {
        await handler(j, context());
      } catch (err) {
        return toErrorInfo(err);
      }
      throw new Error('expected the job to fail');
    };
    await blobs.put('victim/uploads/1', '{}', { contentType: 'application/x-ndjson' });
    expect(await refused(job('mallory', 'data.import', { resource: 'users', blobKey: 'victim/uploads/1' }))).toEqual({
      code: 'VALIDATION_FAILED',
      message: 'blobKey must start with "mallory/"',
      retryable: false,
    });
    expect(await refused(job('mallory', 'data.import', { resource: 'users', blobKey: 'mallory/none' }))).toMatchObject({
      code: 'BLOB_NOT_FOUND',
      retryable: false,
    });
    expect(await refused(job('mallory', 'data.import', { resource: 'posts', blobKey: 'mallory/x' }))).toMatchObject({
      code: 'VALIDATION_FAILED',
      retryable: false,
    });
    const exportHandler = createDataExportHandler({ data, blobs });
    await expect(
      exportHandler(job('mallory', 'data.export', { resource: 'users', filters: { email: { $ne: '' } } }), context()),
    ).rejects.toMatchObject({ name: 'ZodError' });
  });
});
