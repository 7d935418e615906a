import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { blobStoreContract } from '../testing/blob-store-contract';
import { testS3 } from '../testing/test-namespace';
import { waitFor } from '../testing/wait-for';
import { createS3BlobStore, type S3BlobStore } from './s3-blob-store';

const bucket = `test-${randomUUID()}`;
let store: S3BlobStore;

beforeAll(async () => {
  const { endpoint, credentials } = testS3();
  store = createS3BlobStore({ bucket, endpoint, clientConfig: { credentials } });
  await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  for (;;) {
    const listed = await store.client.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((object) => ({ Key: object.Key! }));
    if (keys.length === 0) break;
    await store.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await store.client.send(new DeleteBucketCommand({ Bucket: bucket }));
  store.close();
});

/** Unfinished multipart uploads of `key`, with their parts' sizes. */
async function openUploads(key: string): Promise<{ uploadId: string; partBytes: number }[]> {
  const listed = await store.client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  const uploads = (listed.Uploads ?? []).filter((upload) => upload.Key === key);
  return Promise.all(
    uploads.map(async (upload) => {
      // An upload listed a moment ago may have completed or been aborted since.
      const parts = await store.client
        .send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId! }))
        .catch((err: unknown) => {
          if ((err as Error).name === 'NoSuchUpload') return { Parts: [] };
          throw err;
        });
      const partBytes = (parts.Parts ?? []).reduce((sum, part) => sum + (part.Size ?? 0), 0);
      return { uploadId: upload.UploadId!, partBytes };
    }),
  );
}

describe('S3 blob store: the blob store contract', () => {
  blobStoreContract(() => ({
    store,
    async bytesLanded(key) {
      const uploads = await openUploads(key);
      return uploads.reduce((sum, upload) => sum + upload.partBytes, 0);
    },
  }));
});

describe('S3 blob store: on the server', () => {
  it('aborts the multipart upload of a body that fails after some parts were sent', async () => {
    const key = `test-${randomUUID()}/broken.bin`;
    let partsSent = 0;
    const body = Readable.from(
      (async function* () {
        for (let i = 0; i < 12; i += 1) yield Buffer.alloc(1024 * 1024, i);
        // The failure comes once the server holds parts of this upload, so that there is something to clean up.
        partsSent = await waitFor(
          async () => (await openUploads(key)).reduce((sum, upload) => sum + upload.partBytes, 0) || false,
          { description: 'parts of the upload on the server' },
        );
        throw new Error('the source broke');
      })(),
    );

    await expect(store.put(key, body)).rejects.toThrow('the source broke');

    expect(partsSent).toBeGreaterThan(0);
    expect(await openUploads(key)).toEqual([]);
    expect(await store.stat(key)).toBeNull();
  });
});
