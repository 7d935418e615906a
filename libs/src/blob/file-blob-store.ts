import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JoblineError } from '../errors/jobline-error';
import { assertValidBlobKey } from './blob-key';
import { DEFAULT_BLOB_CONTENT_TYPE, type BlobInfo, type BlobStore } from './blob-store';

export interface FileBlobStoreOptions {
  /** The folder the blobs live under; created when missing. A key `a/b.csv` is the file `<root>/a/b.csv`. */
  root: string;
}

interface Sidecar {
  contentType: string;
}

/**
 * A blob store on the local filesystem. Each key is a plain file under `root`; its content type lives beside it in a
 * hidden sidecar `.<name>.meta.json` (keys cannot name hidden files, so neither sidecars nor temporary files collide
 * with a key).
 *
 * A put streams into a temporary file in the target's folder, flushes it to disk and renames it over the key, so a
 * reader sees the old blob or the new one, never part of one, and a crash leaves at most a stray `.*.tmp` file, never
 * a partial blob under the key. The sidecar is renamed into place just before the data. Puts of one key in one process
 * are applied one after the other, so the type always belongs to the bytes; puts of one key with different types from
 * several processes at the same instant may pair the last bytes with the other put's type.
 *
 * A key that needs a folder where a blob is (`a/b` when `a` is a blob), or the reverse, is refused with
 * `BLOB_KEY_INVALID`: a filesystem cannot hold both, unlike S3.
 */
export function createFileBlobStore(options: FileBlobStoreOptions): BlobStore {
  const root = resolve(options.root);
  const queues = new Map<string, Promise<unknown>>();

  const pathOf = (key: string): string => {
    assertValidBlobKey(key);
    return join(root, ...key.split('/'));
  };
  const sidecarOf = (path: string): string => join(dirname(path), `.${basename(path)}.meta.json`);

  /** Runs `task` after every earlier task on the same key in this process has settled. */
  function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return result;
  }

  async function write(key: string, path: string, body: Readable | Buffer | string, contentType: string) {
    const dir = dirname(path);
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw conflictOrSelf(err, key);
    }
    const stem = join(dir, `.${basename(path)}.${randomUUID()}`);
    const dataTemp = `${stem}.tmp`;
    const sidecarTemp = `${stem}.meta.tmp`;
    try {
      const source = typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      // `flush` fsyncs before closing: once renamed, the bytes are on disk, not only in the page cache.
      await pipeline(source, createWriteStream(dataTemp, { flags: 'wx', flush: true }));
      const { size } = await stat(dataTemp);
      const sidecar: Sidecar = { contentType };
      await writeFile(sidecarTemp, JSON.stringify(sidecar), { flag: 'wx', flush: true });
      await rename(sidecarTemp, sidecarOf(path));
      await rename(dataTemp, path);
      await syncDirectory(dir);
      return { key, bytes: size, contentType };
    } catch (err) {
      await Promise.all([rm(dataTemp, { force: true }), rm(sidecarTemp, { force: true })]);
      throw conflictOrSelf(err, key);
    }
  }

  return {
    async put(key, body, putOptions = {}) {
      const path = pathOf(key);
      const contentType = putOptions.contentType ?? DEFAULT_BLOB_CONTENT_TYPE;
      // The body may fail while the put waits for its turn or its folder, before pipeline() listens to it: the stream
      // keeps the error, which pipeline() then reports, instead of an 'error' event nobody handles ending the process.
      if (body instanceof Readable) body.on('error', () => undefined);
      return serialized<BlobInfo>(key, () => write(key, path, body, contentType));
    },

    async get(key) {
      const path = pathOf(key);
      let handle;
      try {
        handle = await open(path, 'r');
        if (!(await handle.stat()).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      } catch (err) {
        await handle?.close();
        throw notFoundOrSelf(err, key);
      }
      // The stream reads the file that was opened: a put renaming a new version over the key meanwhile does not
      // change what this reader gets.
      return handle.createReadStream();
    },

    async stat(key) {
      const path = pathOf(key);
      let size: number;
      try {
        const info = await stat(path);
        if (!info.isFile()) return null;
        size = info.size;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
      return { key, bytes: size, contentType: await readContentType(sidecarOf(path)) };
    },

    async delete(key) {
      const path = pathOf(key);
      return serialized(key, async () => {
        try {
          if ((await stat(path)).isDirectory()) return;
        } catch (err) {
          if (isMissing(err)) return;
          throw err;
        }
        await rm(path, { force: true });
        await rm(sidecarOf(path), { force: true });
      });
    },
  };
}

async function readContentType(sidecarPath: string): Promise<string> {
  try {
    const sidecar = JSON.parse(await readFile(sidecarPath, 'utf8')) as Partial<Sidecar>;
    return typeof sidecar.contentType === 'string' ? sidecar.contentType : DEFAULT_BLOB_CONTENT_TYPE;
  } catch {
    return DEFAULT_BLOB_CONTENT_TYPE;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const errorCode = (err: unknown): unknown => (err as NodeJS.ErrnoException | undefined)?.code;

const isMissing = (err: unknown): boolean => ['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errorCode(err) as string);

function notFoundOrSelf(err: unknown, key: string): unknown {
  return isMissing(err) ? new JoblineError('BLOB_NOT_FOUND', `no blob ${JSON.stringify(key)}`, { cause: err }) : err;
}

function conflictOrSelf(err: unknown, key: string): unknown {
  if (!['ENOTDIR', 'EEXIST', 'EISDIR', 'ENOTEMPTY'].includes(errorCode(err) as string)) return err;
  return new JoblineError(
    'BLOB_KEY_INVALID',
    `blob key ${JSON.stringify(key)} collides with another blob: the file store cannot hold a blob and a folder of the same name`,
    { cause: err },
  );
}
