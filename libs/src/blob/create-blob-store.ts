import { resolve } from 'node:path';
import type { InfraConfig } from '../config/infra-config';
import { JoblineError } from '../errors/jobline-error';
import type { BlobStore } from './blob-store';
import { createFileBlobStore } from './file-blob-store';
import { createS3BlobStore } from './s3-blob-store';

export type BlobStoreConfig = Pick<
  InfraConfig,
  'BLOB_STORE' | 'BLOB_DIR' | 'BLOB_S3_BUCKET' | 'BLOB_S3_REGION' | 'BLOB_S3_ENDPOINT' | 'BLOB_S3_FORCE_PATH_STYLE'
>;

/** Which blob store the configuration asks for, with its settings resolved (defaults that depend on other values). */
export type BlobStoreSettings =
  | { kind: 'file'; root: string }
  | { kind: 's3'; bucket: string; region: string; endpoint: string | undefined; forcePathStyle: boolean };

export function blobStoreSettings(config: BlobStoreConfig, cwd: string = process.cwd()): BlobStoreSettings {
  switch (config.BLOB_STORE) {
    case 'file':
      return { kind: 'file', root: resolve(cwd, config.BLOB_DIR) };
    case 's3':
      if (!config.BLOB_S3_BUCKET) {
        throw new JoblineError(
          'CONFIG_INVALID',
          'invalid configuration:\n  BLOB_S3_BUCKET: required when BLOB_STORE is s3',
        );
      }
      return {
        kind: 's3',
        bucket: config.BLOB_S3_BUCKET,
        region: config.BLOB_S3_REGION,
        endpoint: config.BLOB_S3_ENDPOINT,
        forcePathStyle: config.BLOB_S3_FORCE_PATH_STYLE ?? Boolean(config.BLOB_S3_ENDPOINT),
      };
    default: {
      const unknown: never = config.BLOB_STORE;
      throw new JoblineError('CONFIG_INVALID', `unknown BLOB_STORE ${String(unknown)}`);
    }
  }
}

/**
 * The blob store the configuration names: a folder under the working directory by default, an S3 bucket with
 * `BLOB_STORE=s3` (credentials from the AWS SDK's default chain: `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, a
 * profile, or the instance's role).
 */
export function createBlobStore(config: BlobStoreConfig, cwd?: string): BlobStore {
  const settings = blobStoreSettings(config, cwd);
  switch (settings.kind) {
    case 'file':
      return createFileBlobStore({ root: settings.root });
    case 's3':
      return createS3BlobStore(settings);
    default: {
      const unknown: never = settings;
      throw new Error(`unknown blob store ${JSON.stringify(unknown)}`);
    }
  }
}
