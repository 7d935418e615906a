/** The blob store: its port, the file and S3 adapters, keys and signed URLs. */
export * from './blob-store';
export * from './blob-key';
export * from './file-blob-store';
export * from './s3-blob-store';
export * from './create-blob-store';
export * from './signed-url';
