import { createHmac, timingSafeEqual } from 'node:crypto';

/** The query parameters of a signed download link. */
export interface DownloadSignature {
  /** When the link stops working, in unix seconds. */
  expires: string;
  /** HMAC-SHA256, hex, of `<path>\n<expires>` under the deployment's `DOWNLOAD_SIGNING_KEY`. */
  signature: string;
}

function sign(path: string, expires: string, key: string): string {
  return createHmac('sha256', key).update(`${path}\n${expires}`).digest('hex');
}

/**
 * Signs a download link to `path` (the URL path as the server will see it, without its query) that works until
 * `expiresAt`, rounded down to the second. Append both fields as query parameters.
 */
export function signDownload(options: { path: string; expiresAt: Date; key: string }): DownloadSignature {
  const expires = String(Math.floor(options.expiresAt.getTime() / 1000));
  return { expires, signature: sign(options.path, expires, options.key) };
}

/**
 * Whether a download link is genuine and still valid at `now`: its signature matches `path` and `expires` under `key`
 * (compared in constant time), and `now` is before `expires`. Missing or malformed parameters are simply invalid.
 */
export function verifyDownload(options: {
  path: string;
  expires: unknown;
  signature: unknown;
  key: string;
  now: Date;
}): boolean {
  const { path, expires, signature, key, now } = options;
  if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires)) return false;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const expected = Buffer.from(sign(path, expires, key), 'hex');
  const given = Buffer.from(signature, 'hex');
  const genuine = timingSafeEqual(expected, given);
  return genuine && now.getTime() < Number(expires) * 1000;
}

/** `path` with the `expires` and `signature` query that makes it a download link valid until `expiresAt`. */
export function signedDownloadPath(options: { path: string; expiresAt: Date; key: string }): string {
  const { expires, signature } = signDownload(options);
  return `${options.path}?${new URLSearchParams({ expires, signature }).toString()}`;
}
