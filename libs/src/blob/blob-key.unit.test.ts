import { JoblineError } from '../errors/jobline-error';
import { assertValidBlobKey } from './blob-key';

function refusal(key: string): JoblineError {
  try {
    assertValidBlobKey(key);
  } catch (err) {
    if (err instanceof JoblineError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(key)} to be refused`);
}

describe('assertValidBlobKey', () => {
  it.each([
    'a',
    'acme/exports/0b5c4f6e-2a1d-4c3e-9f8a-1b2c3d4e5f60/users.ndjson',
    'tenant/ünïcode name (1).csv',
    'a/b..c/d.',
    'x'.repeat(200),
    Array.from({ length: 5 }, () => 'b'.repeat(200)).join('/'),
  ])('accepts %j', (key) => {
    expect(() => assertValidBlobKey(key)).not.toThrow();
  });

  it.each<[string, string, RegExp]>([
    ['empty', '', /empty/],
    ['absolute', '/etc/passwd', /relative/],
    ['a parent segment', 'a/../b', /may not start with "."/],
    ['only a parent segment', '..', /may not start with "."/],
    ['a current segment', './a', /may not start with "."/],
    ['a hidden name', 'a/.meta.json', /may not start with "."/],
    ['a backslash', 'a\\b', /backslash/],
    ['an empty segment', 'a//b', /empty path segment/],
    ['a trailing slash', 'a/', /empty path segment/],
    ['a NUL', 'a\u0000b', /control/],
    ['a DEL', 'a\u007fb', /control/],
    ['over 1024 bytes', Array.from({ length: 6 }, () => 'b'.repeat(180)).join('/'), /1024 bytes/],
    ['a segment over 200 bytes', `a/${'é'.repeat(101)}`, /200 bytes/],
  ])('refuses a key with %s, saying why', (_what, key, reason) => {
    const error = refusal(key);

    expect(error.code).toBe('BLOB_KEY_INVALID');
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(reason);
  });
});
