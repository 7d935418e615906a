import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileBlobStore, dataCollections, ensureDataIndexes, type BlobStore } from '@jobline/libs';
import type { AppDeps } from '../app';
import { signedDownloadLinks } from '../data/download-links';
import type { TestStores } from './test-app';

/**
 * What the import and export endpoints need, on a test's MongoDB database and a file blob store in a fresh folder.
 * `blobs` may be wrapped (to fail it, to watch it) before it is handed to the app; `filesLeft()` lists every file under
 * the folder, temporary ones included, so that a test can assert that nothing was left behind.
 */
export async function startTestData(stores: TestStores, options: { maxUploadBytes?: number } = {}) {
  const blobDir = await mkdtemp(join(tmpdir(), 'jobline-blobs-'));
  const blobs: BlobStore = createFileBlobStore({ root: blobDir });
  const collections = dataCollections(stores.mongo.db);
  await ensureDataIndexes(collections);
  const data: NonNullable<AppDeps['data']> = {
    blobs,
    collections,
    links: signedDownloadLinks('test-download-signing-key', 60, () => new Date()),
    maxUploadBytes: options.maxUploadBytes ?? 1024 * 1024,
    findAnyTenant: () => Promise.resolve(null),
  };
  return {
    data,
    blobs,
    blobDir,
    async filesLeft(): Promise<string[]> {
      const entries = await readdir(blobDir, { recursive: true, withFileTypes: true });
      return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    },
    close: () => rm(blobDir, { recursive: true, force: true }),
  };
}

export type TestData = Awaited<ReturnType<typeof startTestData>>;
