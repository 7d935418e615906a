import { signedDownloadPath, verifyDownload } from '@jobline/libs';
import type { DownloadLinks } from './exports-router';

/** Download links signed with the deployment's DOWNLOAD_SIGNING_KEY, valid for `ttlSeconds` from when they are made. */
export function signedDownloadLinks(key: string, ttlSeconds: number, now: () => Date): DownloadLinks {
  return {
    sign(path) {
      // Whole seconds, as the link carries them.
      const expiresAt = new Date(Math.floor(now().getTime() / 1000 + ttlSeconds) * 1000);
      return { url: signedDownloadPath({ path, expiresAt, key }), expiresAt: expiresAt.toISOString() };
    },
    verify: (path, query) =>
      verifyDownload({ path, expires: query.expires, signature: query.signature, key, now: now() }),
  };
}
