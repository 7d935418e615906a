import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import {
  connectMongo,
  createFileBlobStore,
  createGuardedHttpClient,
  parseOutboundAllowList,
  dataCollections,
  ensureDataIndexes,
  readImportReport,
  type BlobStore,
  type DataCollections,
  type Job,
  type MongoConnection,
} from '@jobline/libs';
import { testInfra, testNamespace } from '@jobline/libs/testing';
import { toErrorInfo } from '../execute-job';
import { createDataExportHandler } from './data-export-handler';
import { createDataImportHandler, type DataHandlerDeps } from './data-import-handler';
import { handlerContext, requestedJob } from './testing/handler-fixtures';

const job = (tenantId: string, type: string, payload: unknown) => requestedJob(type, payload, { tenantId });

let sourceBody = '';

describe('data.import and data.export handlers', () => {
  let mongo: MongoConnection;
  let data: DataCollections;
  let blobs: BlobStore;
  let root: string;
  let deps: DataHandlerDeps;
  let source: Server;
  let sourceUrl: string;
  const served: string[] = [];
  const ns = testNamespace();

  beforeAll(async () => {
    mongo = await connectMongo(testInfra().mongoUri, ns.database);
    data = dataCollections(mongo.db);
    await ensureDataIndexes(data);
    root = await mkdtemp(join(tmpdir(), 'jobline-data-handlers-'));
    blobs = createFileBlobStore({ root });
    // Loopback is where the test's file server is; outbound requests may reach it only because it is allowed here.
    deps = { data, blobs, http: createGuardedHttpClient({ allowList: parseOutboundAllowList('127.0.0.1/32') }) };
    source = createServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/missing.ndjson') {
        res.statusCode = 404;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/x-ndjson');
      res.end(sourceBody);
    });
    await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
    sourceUrl = `http://127.0.0.1:${(source.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => source.close(() => resolve()));
    await deps.http.close();
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
    const imported = await createDataImportHandler(deps)(
      importJob,
      handlerContext({ progress: (n) => progress.push(n) }),
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
    const rerun = await createDataImportHandler(deps)(importJob, handlerContext());
    expect(rerun.result).toMatchObject({ processed: 2, imported: 1, failed: 1, resumedAfter: 1 });
    expect(await data.records.users.countDocuments({ tenantId: tenant })).toBe(1);

    const exportJob = job(tenant, 'data.export', { resource: 'users', format: 'csv', fields: ['externalId', 'bio'] });
    const exported = await createDataExportHandler(deps)(exportJob, handlerContext());
    const blobKey = `${tenant}/exports/${exportJob.id}/users.csv`;
    expect(exported.result).toMatchObject({ blobKey, contentType: 'text/csv', exported: 1 });
    expect(await text(await blobs.get(blobKey))).toBe(`externalId,bio\r\n${a},"Hi, I write"\r\n`);
    expect((await blobs.stat(blobKey))!.contentType).toBe('text/csv');
  });

  it("refuses another tenant's upload, a missing blob and an invalid payload, for good", async () => {
    const handler = createDataImportHandler(deps);
    const refused = async (j: Job) => {
      try {
        await handler(j, handlerContext());
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
    const exportHandler = createDataExportHandler(deps);
    await expect(
      exportHandler(
        job('mallory', 'data.export', { resource: 'users', filters: { email: { $ne: '' } } }),
        handlerContext(),
      ),
    ).rejects.toMatchObject({ name: 'ZodError' });
  });

  it('imports from a url: downloads the file once into the blob store, and a rerun reads that copy', async () => {
    const tenant = `t${randomUUID().slice(0, 8)}`;
    const users = [randomUUID(), randomUUID()].map((id, i) => ({
      externalId: id,
      username: `u${i}`,
      email: `u${i}@x.io`,
    }));
    sourceBody = users.map((u) => JSON.stringify(u)).join('\n');
    const importJob = job(tenant, 'data.import', { resource: 'users', url: `${sourceUrl}/users.ndjson` });

    const first = await createDataImportHandler(deps)(importJob, handlerContext());
    expect(first.result).toMatchObject({ format: 'ndjson', processed: 2, imported: 2, failed: 0 });
    expect(await blobs.stat(`${tenant}/imports/${importJob.id}/users.ndjson`)).toMatchObject({
      contentType: 'application/x-ndjson',
    });

    sourceBody = 'the source changed meanwhile';
    const rerun = await createDataImportHandler(deps)(importJob, handlerContext());
    expect(rerun.result).toMatchObject({ processed: 2, imported: 2, failed: 0 });
    expect(served.filter((url) => url === '/users.ndjson')).toHaveLength(1);
    expect(await data.records.users.countDocuments({ tenantId: tenant })).toBe(2);

    const missing = job(tenant, 'data.import', { resource: 'users', url: `${sourceUrl}/missing.ndjson` });
    await expect(createDataImportHandler(deps)(missing, handlerContext())).rejects.toMatchObject({
      code: 'OUTBOUND_UNEXPECTED_STATUS',
      retryable: false,
    });
    const blocked = job(tenant, 'data.import', { resource: 'users', url: 'http://10.0.0.1/users.ndjson' });
    await expect(createDataImportHandler(deps)(blocked, handlerContext())).rejects.toMatchObject({
      code: 'OUTBOUND_ADDRESS_BLOCKED',
      retryable: false,
    });
  });
});
