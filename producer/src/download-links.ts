import { signDownload, verifyDownload } from '@jobline/libs';
import type { DownloadLinks } from './exports-router';

/** Download links signed with the deployment's DOWNLOAD_SIGNING_KEY, valid for `ttlSeconds` from when they are made. */
export function signedDownloadLinks(key: string, ttlSeconds: number, now: () => Date): DownloadLinks {
  return {
    sign(path) {
      const expiresAt = new Date(now().getTime() + ttlSeconds * 1000);
      const { expires, signature } = signDownload({ path, expiresAt, key });
      return {
        url: `${path}?${new URLSearchParams({ expires, signature }).toString()}`,
        expiresAt: new Date(Number(expires) * 1000).toISOString(),
      };
    },
    verify: (path, query) =>
      verifyDownload({ path, expires: query.expires, signature: query.signature, key, now: now() }),
  };
}
