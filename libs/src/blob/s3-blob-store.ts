import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { JoblineError } from '../errors/jobline-error';
import { assertValidBlobKey } from './blob-key';
import { DEFAULT_BLOB_CONTENT_TYPE, type BlobStore } from './blob-store';

/** S3's smallest part: a put holds at most `PART_BYTES * (PARTS_IN_FLIGHT + 1)` of its body in memory. */
const PART_BYTES = 5 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;

export interface S3BlobStoreOptions {
  bucket: string;
  /** @defaultValue `us-east-1` */
  region?: string;
  /** The server's URL when it is not AWS (MinIO, Ceph, S3Mock…), e.g. `http://minio:9000`. */
  endpoint?: string;
  /** Address buckets as `<endpoint>/<bucket>` rather than `<bucket>.<endpoint>`. @defaultValue true with an endpoint */
  forcePathStyle?: boolean;
  /** Settings handed to the S3 client beyond these. Credentials come from the AWS SDK's default chain. */
  clientConfig?: S3ClientConfig;
}

/** A {@link BlobStore} with the S3 client it owns; `close` ends the client's connections. */
export interface S3BlobStore extends BlobStore {
  readonly client: S3Client;
  close(): void;
}

/**
 * A blob store in an S3 bucket (AWS or any S3-compatible server), with the AWS SDK v3. A put streams its body as a
 * multipart upload, so neither a large body nor one of unknown length is held whole; S3 makes an object visible only
 * once its upload completes, and an upload that fails is aborted, so a reader never sees part of a blob. Keys follow
 * the same rules as the file store's ({@link assertValidBlobKey}).
 */
export function createS3BlobStore(options: S3BlobStoreOptions): S3BlobStore {
  const { bucket, endpoint } = options;
  const client = new S3Client({
    region: options.region ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? Boolean(endpoint),
    ...options.clientConfig,
  });

  return {
    client,

    async put(key, body, putOptions = {}) {
      assertValidBlobKey(key);
      const contentType = putOptions.contentType ?? DEFAULT_BLOB_CONTENT_TYPE;
      const source = typeof body === 'string' || Buffer.isBuffer(body) ? Readable.from([Buffer.from(body)]) : body;
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          bytes += chunk.length;
          callback(null, chunk);
        },
      });
      const upload = new Upload({
        client,
        // The type is always sent: S3 would otherwise label the object binary/octet-stream.
        params: { Bucket: bucket, Key: key, Body: counter, ContentType: contentType },
        partSize: PART_BYTES,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      const flowing = pipeline(source, counter);
      const uploaded = upload.done();
      try {
        await Promise.all([flowing, uploaded]);
      } catch (err) {
        // The upload then fails on its own and aborts its multipart upload on the server before it settles, so no
        // parts outlive the failure. (Upload#abort would settle at once and leave that clean-up running.)
        counter.destroy(err as Error);
        await uploaded.catch(() => undefined);
        throw err;
      }
      return { key, bytes, contentType };
    },

    async get(key) {
      assertValidBlobKey(key);
      try {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return object.Body as Readable;
      } catch (err) {
        if (isNotFound(err)) throw new JoblineError('BLOB_NOT_FOUND', `no blob ${JSON.stringify(key)}`, { cause: err });
        throw err;
      }
    },

    async stat(key) {
      assertValidBlobKey(key);
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { key, bytes: head.ContentLength ?? 0, contentType: head.ContentType ?? DEFAULT_BLOB_CONTENT_TYPE };
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async delete(key) {
      assertValidBlobKey(key);
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },

    close() {
      client.destroy();
    },
  };
}

/** A missing object: `NoSuchKey` from GET, a bare 404 (`NotFound`) from HEAD, which has no body to name it. */
function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound');
}
