import { useEffect, useRef } from 'react';
import { dataOf, type Schemas } from '../api/api-client';
import { useLiveJobs } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { useQuery, type Query } from '../ui/use-query';

export type JobStats = Schemas['JobStats'];

const WINDOW_MS = 3600_000;
const BUCKET_SECONDS = 60;
/** Live changes reload the figures at most this often. */
const RELOAD_MS = 2000;
/** And they are read again this often anyway, so that the hour's window moves on. */
const REFRESH_MS = 30_000;

/** The tenant's job figures over the last hour, kept moving by the live stream. */
export function useJobStats(): Query<JobStats> {
  const { api } = useSession();
  const stats = useQuery('stats', async (signal) => {
    const since = new Date(Math.floor((Date.now() - WINDOW_MS) / 60_000) * 60_000).toISOString();
    return dataOf(await api.GET('/v1/stats', { params: { query: { since, bucketSeconds: BUCKET_SECONDS } }, signal }));
  });
  const { reload } = stats;
  const timer = useRef<number | null>(null);
  const last = useRef(0);

  useEffect(() => {
    const interval = window.setInterval(reload, REFRESH_MS);
    return () => {
      window.clearInterval(interval);
      window.clearTimeout(timer.current ?? undefined);
    };
  }, [reload]);

  useLiveJobs(() => {
    if (timer.current !== null) return;
    const wait = Math.max(0, last.current + RELOAD_MS - Date.now());
    timer.current = window.setTimeout(() => {
      timer.current = null;
      last.current = Date.now();
      reload();
    }, wait);
  }, reload);

  return stats;
}
