import { createHmac } from 'node:crypto';
import { signDownload, verifyDownload } from './signed-url';

const key = 'a-download-signing-key';
const path = '/v1/exports/0b5c4f6e-2a1d-4c3e-9f8a-1b2c3d4e5f60/download';
const expiresAt = new Date('2030-01-01T00:00:00.900Z');
const beforeExpiry = new Date('2029-12-31T23:59:59.999Z');

describe('signDownload', () => {
  it('gives the expiry in unix seconds, rounded down, and the HMAC-SHA256 of path and expiry', () => {
    const signed = signDownload({ path, expiresAt, key });

    expect(signed.expires).toBe('1893456000');
    expect(signed.signature).toBe(createHmac('sha256', key).update(`${path}\n1893456000`).digest('hex'));
  });
});

describe('verifyDownload', () => {
  const signed = signDownload({ path, expiresAt, key });
  const check = (overrides: Partial<Parameters<typeof verifyDownload>[0]> = {}) =>
    verifyDownload({ path, key, now: beforeExpiry, ...signed, ...overrides });

  it('accepts a link it signed, before it expires', () => {
    expect(check()).toBe(true);
    expect(check({ signature: signed.signature.toUpperCase() })).toBe(true);
  });

  it('refuses the link from its expiry on', () => {
    expect(check({ now: new Date('2030-01-01T00:00:00.000Z') })).toBe(false);
    expect(check({ now: new Date('2031-01-01T00:00:00.000Z') })).toBe(false);
  });

  it('refuses a link whose expiry was pushed back', () => {
    expect(check({ expires: String(Number(signed.expires) + 3600) })).toBe(false);
  });

  it('refuses the signature for another path, or under another key', () => {
    expect(check({ path: path.replace('0b5c', '1b5c') })).toBe(false);
    expect(check({ path: `${path}/` })).toBe(false);
    expect(check({ key: 'another-download-signing-key' })).toBe(false);
  });

  it.each<[string, unknown, unknown]>([
    ['no expiry', undefined, 'sig'],
    ['no signature', '1893456000', undefined],
    ['an expiry given twice (an array)', ['1893456000', '1893456000'], 'sig'],
    ['a non-numeric expiry', '1893456000.5', 'sig'],
    ['a negative expiry', '-1', 'sig'],
    ['a short signature', '1893456000', 'abcd'],
    ['a signature that is not hex', '1893456000', 'z'.repeat(64)],
  ])('refuses a link with %s without throwing', (_what, expires, signature) => {
    const realSignature = signature === 'sig' ? signed.signature : signature;

    expect(check({ expires, signature: realSignature })).toBe(false);
  });
});
