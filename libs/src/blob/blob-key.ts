import { JoblineError } from '../errors/jobline-error';

/** S3's limit on an object key, which the file store keeps too so that a key works in both. */
export const BLOB_KEY_MAX_BYTES = 1024;
/** Below the filesystems' 255-byte name limit, leaving room for the file store's temporary and sidecar names. */
export const BLOB_KEY_SEGMENT_MAX_BYTES = 200;

/**
 * Refuses a key that could leave the store's root or collide with the file store's own files: an empty one, one
 * starting with `/`, an empty segment (`a//b`, a trailing `/`), a segment starting with `.` (which covers `.` and
 * `..`, and keeps temporary and sidecar files out of the key space), a backslash, a control character (NUL among
 * them), or a key or segment over the length limits. Both stores apply the same rules, so a key valid in one is valid
 * in the other.
 */
export function assertValidBlobKey(key: string): void {
  const problem = blobKeyProblem(key);
  if (problem) throw new JoblineError('BLOB_KEY_INVALID', `invalid blob key ${JSON.stringify(key)}: ${problem}`);
}

function blobKeyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key === '') return 'the key is empty';
  if (Buffer.byteLength(key) > BLOB_KEY_MAX_BYTES) return `longer than ${BLOB_KEY_MAX_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'control characters are not allowed';
  if (key.includes('\\')) return 'backslashes are not allowed';
  if (key.startsWith('/')) return 'the key must be relative (no leading /)';
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty path segment';
    if (segment.startsWith('.')) return 'a path segment may not start with "." (no ".", "..", or hidden names)';
    if (Buffer.byteLength(segment) > BLOB_KEY_SEGMENT_MAX_BYTES) {
      return `a path segment is longer than ${BLOB_KEY_SEGMENT_MAX_BYTES} bytes`;
    }
  }
  return undefined;
}
