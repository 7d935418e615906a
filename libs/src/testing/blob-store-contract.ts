import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { BlobStore } from '../blob/blob-store';
import { JoblineError, type ErrorCode } from '../errors/jobline-error';
import { waitFor } from './wait-for';

export interface BlobStoreContractSubject {
  store: BlobStore;
  /**
   * How many bytes of a put of `key` that has not finished have already left the process (written to a temporary
   * file, uploaded as parts): lets the suite prove that a put streams instead of reading its whole body first.
   */
  bytesLanded(key: string): Promise<number>;
}

const MiB = 1024 * 1024;

/**
 * The behaviour every BlobStore shares, as one suite that each implementation's test file runs against a real
 * backend. `subject` is called in `beforeAll`; keys are unique per test, so one store can serve the whole suite.
 */
export function blobStoreContract(subject: () => Promise<BlobStoreContractSubject> | BlobStoreContractSubject): void {
  let store: BlobStore;
  let bytesLanded: BlobStoreContractSubject['bytesLanded'];
  beforeAll(async () => {
    ({ store, bytesLanded } = await subject());
  });
  const newKey = (name = 'blob.bin') => `test-${randomUUID()}/nested/${name}`;

  it('stores a blob and gives back its bytes, size and content type', async () => {
    const key = newKey('users.ndjson');
    const body = '{"id":1}\n{"id":2,"name":"Zoë"}\n';

    const info = await store.put(key, body, { contentType: 'application/x-ndjson' });

    const expected = { key, bytes: Buffer.byteLength(body), contentType: 'application/x-ndjson' };
    expect(info).toEqual(expected);
    expect(await store.stat(key)).toEqual(expected);
    expect((await readAll(await store.get(key))).toString('utf8')).toBe(body);
  });

  it('takes a Buffer or a stream, keeps every byte value, and stores an empty blob', async () => {
    const binary = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const fromBuffer = newKey();
    const fromStream = newKey();
    const empty = newKey();

    await store.put(fromBuffer, binary);
    await store.put(fromStream, Readable.from([binary.subarray(0, 100), binary.subarray(100)]));
    await store.put(empty, Buffer.alloc(0));

    expect(await readAll(await store.get(fromBuffer))).toEqual(binary);
    expect(await readAll(await store.get(fromStream))).toEqual(binary);
    expect(await readAll(await store.get(empty))).toEqual(Buffer.alloc(0));
    expect(await store.stat(empty)).toEqual({ key: empty, bytes: 0, contentType: 'application/octet-stream' });
  });

  it('accepts keys with spaces and non-ASCII names', async () => {
    const key = `test-${randomUUID()}/exports/ünïcode name (1).csv`;

    await store.put(key, 'a,b\n', { contentType: 'text/csv' });

    expect(await store.stat(key)).toEqual({ key, bytes: 4, contentType: 'text/csv' });
  });

  it('replaces a blob and its content type on a second put', async () => {
    const key = newKey();
    await store.put(key, 'first version, longer than the second', { contentType: 'text/plain' });

    await store.put(key, '{"v":2}', { contentType: 'application/json' });

    expect(await store.stat(key)).toEqual({ key, bytes: 7, contentType: 'application/json' });
    expect((await readAll(await store.get(key))).toString()).toBe('{"v":2}');
  });

  it('answers BLOB_NOT_FOUND for get, null for stat, and nothing for delete of a missing key', async () => {
    const key = newKey();

    await expect(store.get(key)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(store.get(key)).rejects.toBeInstanceOf(JoblineError);
    expect(await store.stat(key)).toBeNull();
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it('deletes a blob', async () => {
    const key = newKey();
    const sibling = newKey();
    await store.put(key, 'bye');
    await store.put(sibling, 'stays');

    await store.delete(key);

    expect(await store.stat(key)).toBeNull();
    await expect(store.get(key)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect((await readAll(await store.get(sibling))).toString()).toBe('stays');
  });

  it.each([
    ['empty', ''],
    ['absolute', '/etc/passwd'],
    ['parent segment', 'a/../../etc/passwd'],
    ['leading parent segment', '../outside'],
    ['current segment', 'a/./b'],
    ['hidden segment', 'a/.b.meta.json'],
    ['backslash', 'a\\..\\b'],
    ['empty segment', 'a//b'],
    ['trailing slash', 'a/b/'],
    ['NUL', 'a/b\u0000.txt'],
    ['newline', 'a/b\n.txt'],
    ['over 1024 bytes', Array.from({ length: 6 }, () => 'b'.repeat(180)).join('/')],
    ['segment over 200 bytes', `a/${'b'.repeat(201)}`],
  ])('refuses a key that is %s with BLOB_KEY_INVALID in every operation', async (_what, key) => {
    const refused = (promise: Promise<unknown>) =>
      expect(promise).rejects.toMatchObject({ code: 'BLOB_KEY_INVALID' satisfies ErrorCode });

    await refused(store.put(key, 'x'));
    await refused(store.get(key));
    await refused(store.stat(key));
    await refused(store.delete(key));
  });

  it('streams a 50 MiB blob in and out without holding it whole', async () => {
    const key = newKey('large.bin');
    const total = 50 * MiB;
    const chunk = 256 * 1024;
    const seed = randomBytes(chunk);
    const written = createHash('sha256');
    let landedBeforeEnd = 0;
    async function* generate() {
      for (let offset = 0, i = 0; offset < total; offset += chunk, i += 1) {
        const part = Buffer.from(seed);
        part.writeUInt32BE(i, 0);
        written.update(part);
        yield part;
        if (offset + chunk === 12 * MiB) {
          // The source holds back the rest until the store has passed on what it got: a store that read the whole
          // body before writing anything would wait here forever.
          landedBeforeEnd = await waitFor(
            async () => ((await bytesLanded(key)) >= 5 * MiB ? bytesLanded(key) : false),
            {
              timeoutMs: 30_000,
              description: 'the first bytes of the put to land while its source is still open',
            },
          );
        }
      }
    }

    const info = await store.put(key, Readable.from(generate()), { contentType: 'application/octet-stream' });

    expect(landedBeforeEnd).toBeGreaterThanOrEqual(5 * MiB);
    expect(info.bytes).toBe(total);
    expect(await store.stat(key)).toMatchObject({ bytes: total });
    const read = createHash('sha256');
    let chunks = 0;
    let largest = 0;
    let bytes = 0;
    for await (const piece of await store.get(key)) {
      const buffer = piece as Buffer;
      read.update(buffer);
      chunks += 1;
      bytes += buffer.length;
      largest = Math.max(largest, buffer.length);
    }
    expect(bytes).toBe(total);
    expect(read.digest('hex')).toBe(written.digest('hex'));
    expect(chunks).toBeGreaterThan(total / (4 * MiB));
    expect(largest).toBeLessThanOrEqual(4 * MiB);
  });

  it('keeps the previous blob, and stores nothing new, when the body fails half-way', async () => {
    const key = newKey();
    const fresh = newKey();
    await store.put(key, 'old and whole', { contentType: 'text/plain' });
    const failing = () =>
      Readable.from(
        (async function* () {
          yield Buffer.alloc(MiB, 1);
          throw new Error('the upload was cut off');
        })(),
      );

    await expect(store.put(key, failing(), { contentType: 'application/json' })).rejects.toThrow('cut off');
    await expect(store.put(fresh, failing())).rejects.toThrow('cut off');

    expect(await store.stat(key)).toEqual({ key, bytes: 13, contentType: 'text/plain' });
    expect((await readAll(await store.get(key))).toString()).toBe('old and whole');
    expect(await store.stat(fresh)).toBeNull();
  });

  it('fails the put, and only the put, when the body fails before the store has read any of it', async () => {
    const key = newKey();
    const body = new PassThrough();

    const put = store.put(key, body);
    body.destroy(new Error('the client went away'));

    await expect(put).rejects.toThrow('went away');
    expect(await store.stat(key)).toBeNull();
  });

  it('leaves one whole version, with its own content type, after concurrent puts of one key', async () => {
    const key = newKey();
    const versions = Array.from({ length: 6 }, (_, i) => ({
      body: Buffer.alloc(MiB + i * 4099, i + 1),
      contentType: `application/x-version-${i}`,
    }));

    await Promise.all(
      versions.map((version) =>
        store.put(key, Readable.from(slices(version.body, 64 * 1024)), { contentType: version.contentType }),
      ),
    );

    const stored = await readAll(await store.get(key));
    const winner = versions.find((version) => version.body.equals(stored));
    expect(winner).toBeDefined();
    expect(await store.stat(key)).toEqual({ key, bytes: winner!.body.length, contentType: winner!.contentType });
  });

  it('never shows a reader part of a blob while puts replace it', async () => {
    const key = newKey();
    const versions = Array.from({ length: 4 }, (_, i) => Buffer.alloc(512 * 1024 + i * 1000, i + 1));
    await store.put(key, versions[0]!);
    let writing = true;
    const writer = (async () => {
      try {
        for (const version of [...versions, ...versions]) {
          await store.put(key, Readable.from(slices(version, 32 * 1024)));
        }
      } finally {
        writing = false;
      }
    })();

    let reads = 0;
    while (writing || reads < 3) {
      const seen = await readAll(await store.get(key));
      expect(versions.some((version) => version.equals(seen))).toBe(true);
      reads += 1;
    }
    await writer;
  });
}

function* slices(buffer: Buffer, size: number): Generator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
