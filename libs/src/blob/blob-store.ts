import type { Readable } from 'node:stream';

/** The content type of a blob stored without one. */
export const DEFAULT_BLOB_CONTENT_TYPE = 'application/octet-stream';

/** What a stored blob is, without its bytes. */
export interface BlobInfo {
  key: string;
  bytes: number;
  contentType: string;
}

/**
 * Where job inputs and outputs live (uploads to import, exports, fetched responses, generated books): the local
 * filesystem by default, an S3-compatible bucket when configured. Keys are `/`-separated paths chosen by jobline, e.g.
 * `<tenant>/exports/<jobId>/users.ndjson`; bodies are streamed in and out, never held whole in memory.
 */
export interface BlobStore {
  /** Stores `body` under `key`, replacing what was there; resolves once the bytes are durable. */
  put(key: string, body: Readable | Buffer | string, options?: { contentType?: string }): Promise<BlobInfo>;
  /** The blob's bytes as a stream; rejects with `BLOB_NOT_FOUND` when there is none. */
  get(key: string): Promise<Readable>;
  /** The blob's size and type, or null when there is none. */
  stat(key: string): Promise<BlobInfo | null>;
  /** Removes the blob; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
}
