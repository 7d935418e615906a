import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { blobStoreContract } from '../testing/blob-store-contract';
import { createFileBlobStore } from './file-blob-store';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'jobline-blobs-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

describe('file blob store: the blob store contract', () => {
  blobStoreContract(() => ({
    store: createFileBlobStore({ root: join(root, 'contract') }),
    async bytesLanded(key) {
      const path = join(root, 'contract', ...key.split('/'));
      const names = await readdir(dirname(path)).catch(() => [] as string[]);
      const temps = names.filter((name) => name.startsWith(`.${basename(path)}.`) && name.endsWith('.tmp'));
      const sizes = await Promise.all(
        temps.map((name) =>
          stat(join(dirname(path), name)).then(
            (s) => s.size,
            () => 0,
          ),
        ),
      );
      return sizes.reduce((sum, size) => sum + size, 0);
    },
  }));
});

describe('file blob store: on disk', () => {
  it('keeps a key as a plain file under the root, with its content type in a hidden sidecar', async () => {
    const dir = join(root, 'layout');
    const store = createFileBlobStore({ root: dir });

    await store.put('acme/exports/job-1/users.csv', 'id\n1\n', { contentType: 'text/csv' });

    expect(await readFile(join(dir, 'acme/exports/job-1/users.csv'), 'utf8')).toBe('id\n1\n');
    expect(await filesUnder(dir)).toEqual(['acme/exports/job-1/.users.csv.meta.json', 'acme/exports/job-1/users.csv']);
  });

  it('leaves no temporary file behind after a put, a failed put or a delete', async () => {
    const dir = join(root, 'no-leftovers');
    const store = createFileBlobStore({ root: dir });

    await store.put('a/kept.bin', 'kept');
    await store.put('a/gone.bin', 'gone');
    await store.delete('a/gone.bin');
    const failing = Readable.from(
      (async function* () {
        yield Buffer.alloc(1024);
        throw new Error('source failed');
      })(),
    );
    await expect(store.put('a/never.bin', failing)).rejects.toThrow('source failed');

    expect(await filesUnder(dir)).toEqual(['a/.kept.bin.meta.json', 'a/kept.bin']);
  });

  it('refuses a key whose folder is a blob, or that names a folder of blobs', async () => {
    const store = createFileBlobStore({ root: join(root, 'collisions') });
    await store.put('reports/2024', 'a blob');
    await store.put('exports/job-1/users.csv', 'a blob in a folder');

    await expect(store.put('reports/2024/january.csv', 'x')).rejects.toMatchObject({ code: 'BLOB_KEY_INVALID' });
    await expect(store.put('exports/job-1', 'x')).rejects.toMatchObject({ code: 'BLOB_KEY_INVALID' });
    await expect(store.get('exports/job-1')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(store.get('reports/2024/january.csv')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect(await store.stat('exports/job-1')).toBeNull();
    await store.delete('exports/job-1');
    expect(await store.stat('exports/job-1/users.csv')).toMatchObject({ bytes: 18 });
  });

  it('reports application/octet-stream for a blob whose sidecar is missing or unreadable', async () => {
    const dir = join(root, 'sidecars');
    const store = createFileBlobStore({ root: dir });
    await store.put('copied-in.bin', 'bytes', { contentType: 'text/plain' });
    await rm(join(dir, '.copied-in.bin.meta.json'));
    await store.put('broken.bin', 'bytes', { contentType: 'text/plain' });
    await writeFile(join(dir, '.broken.bin.meta.json'), '{not json');

    expect(await store.stat('copied-in.bin')).toMatchObject({ contentType: 'application/octet-stream' });
    expect(await store.stat('broken.bin')).toMatchObject({ contentType: 'application/octet-stream' });
  });

  it('keeps serving the version a reader opened while a put replaces it', async () => {
    const store = createFileBlobStore({ root: join(root, 'open-readers') });
    await store.put('doc.txt', 'the first version');

    const reader = await store.get('doc.txt');
    await store.put('doc.txt', 'the second version');

    const chunks: Buffer[] = [];
    for await (const chunk of reader) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('the first version');
  });
});
