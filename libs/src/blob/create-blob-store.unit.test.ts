import { InfraEnv } from '../config/infra-config';
import { loadConfig, type Env } from '../config/load-config';
import { JoblineError } from '../errors/jobline-error';
import { blobStoreSettings, createBlobStore } from './create-blob-store';
import type { S3BlobStore } from './s3-blob-store';

const settingsFor = (env: Env) => blobStoreSettings(loadConfig(InfraEnv, env), '/srv/jobline');

describe('blobStoreSettings', () => {
  it('keeps blobs in .data/blobs under the working directory by default', () => {
    expect(settingsFor({})).toEqual({ kind: 'file', root: '/srv/jobline/.data/blobs' });
    expect(settingsFor({ BLOB_DIR: '/var/lib/jobline/blobs' })).toEqual({
      kind: 'file',
      root: '/var/lib/jobline/blobs',
    });
  });

  it('uses an S3 bucket on AWS, addressed by host name, with BLOB_STORE=s3', () => {
    expect(settingsFor({ BLOB_STORE: 's3', BLOB_S3_BUCKET: 'jobline-blobs', BLOB_S3_REGION: 'eu-west-1' })).toEqual({
      kind: 's3',
      bucket: 'jobline-blobs',
      region: 'eu-west-1',
      endpoint: undefined,
      forcePathStyle: false,
    });
  });

  it('addresses buckets by path on a server of its own, unless told otherwise', () => {
    const minio = { BLOB_STORE: 's3', BLOB_S3_BUCKET: 'jobline', BLOB_S3_ENDPOINT: 'http://minio:9000' };

    expect(settingsFor(minio)).toMatchObject({
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      region: 'us-east-1',
    });
    expect(settingsFor({ ...minio, BLOB_S3_FORCE_PATH_STYLE: 'false' })).toMatchObject({ forcePathStyle: false });
    expect(settingsFor({ BLOB_STORE: 's3', BLOB_S3_BUCKET: 'b-1', BLOB_S3_FORCE_PATH_STYLE: 'true' })).toMatchObject({
      forcePathStyle: true,
    });
  });

  it('refuses s3 without a bucket, naming the variable, also when the configuration was not loaded', () => {
    const config = { ...loadConfig(InfraEnv, {}), BLOB_STORE: 's3' as const };

    expect(() => blobStoreSettings(config)).toThrow(JoblineError);
    expect(() => blobStoreSettings(config)).toThrow(/BLOB_S3_BUCKET: required when BLOB_STORE is s3/);
  });
});

describe('createBlobStore', () => {
  it('creates the S3 store with the resolved settings', async () => {
    const store = createBlobStore(
      loadConfig(InfraEnv, {
        BLOB_STORE: 's3',
        BLOB_S3_BUCKET: 'jobline',
        BLOB_S3_ENDPOINT: 'http://minio:9000',
        BLOB_S3_REGION: 'eu-central-1',
      }),
    ) as S3BlobStore;
    try {
      expect(await store.client.config.region()).toBe('eu-central-1');
      expect(store.client.config.forcePathStyle).toBe(true);
      const endpoint = await store.client.config.endpoint!();
      expect(`${endpoint.protocol}//${endpoint.hostname}:${endpoint.port}`).toBe('http://minio:9000');
    } finally {
      store.close();
    }
  });
});
