import { useCallback, useMemo, useState } from 'react';
import { dataOf, type JobStatus, type JobView } from '../api/api-client';
import { useLiveJobs } from '../api/live-jobs';
import { useSession } from '../auth/session';
import { useQuery } from '../ui/use-query';

export interface JobFilters {
  statuses: readonly JobStatus[];
  type: string | null;
  /** ISO instant: only jobs created at or after it. */
  createdAfter: string | null;
  /** Only jobs whose metadata has these values (`metadata.<key>=<value>`). */
  metadata?: Readonly<Record<string, string>>;
}

export interface JobList {
  jobs: JobView[];
  loading: boolean;
  error: Error | undefined;
  page: number;
  hasNext: boolean;
  hasPrevious: boolean;
  next(): void;
  previous(): void;
  reload(): void;
}

export function matches(filters: JobFilters, job: JobView): boolean {
  if (filters.statuses.length > 0 && !filters.statuses.includes(job.status)) return false;
  if (filters.type !== null && job.type !== filters.type) return false;
  if (filters.createdAfter !== null && job.createdAt < filters.createdAfter) return false;
  return Object.entries(filters.metadata ?? {}).every(([key, value]) => job.metadata[key] === value);
}

/**
 * A page of `GET /v1/jobs` with the filters, paged by cursor, kept current by the tenant's live stream: a shown job
 * changes in place (it stays on the page even when it no longer matches, so that a person sees what became of it),
 * and on the first page a new matching job appears at the top.
 */
export function useJobList(filters: JobFilters, limit = 20): JobList {
  const { api } = useSession();
  // The cursors of the pages before the current one; the first page has none.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const filterKey = JSON.stringify(filters);
  const [pagedFor, setPagedFor] = useState(filterKey);
  if (pagedFor !== filterKey) {
    setPagedFor(filterKey);
    setCursors([null]);
  }
  const cursor = cursors.at(-1) ?? null;

  const query = useQuery(`${filterKey}|${cursor}|${limit}`, async (signal) => {
    const metadata = Object.fromEntries(Object.entries(filters.metadata ?? {}).map(([k, v]) => [`metadata.${k}`, v]));
    const result = await api.GET('/v1/jobs', {
      params: {
        query: {
          limit,
          ...(filters.statuses.length > 0 ? { status: filters.statuses.join(',') } : {}),
          ...(filters.type ? { type: filters.type } : {}),
          ...(filters.createdAfter ? { createdAfter: filters.createdAfter } : {}),
          ...(cursor ? { cursor } : {}),
          ...metadata,
        },
      },
      signal,
    });
    return dataOf(result);
  });

  const firstPage = cursors.length === 1;
  const { set, reload } = query;
  useLiveJobs(
    useCallback(
      (view: JobView) =>
        set((page) => {
          const index = page.items.findIndex((job) => job.id === view.id);
          if (index >= 0) {
            // An older view arriving late (the stream is not ordered across jobs' partitions) changes nothing.
            if (page.items[index]!.updatedAt > view.updatedAt) return page;
            const items = [...page.items];
            items[index] = view;
            return { ...page, items };
          }
          if (!firstPage || !matches(filters, view)) return page;
          // Not trimmed to the page size: the next page's cursor starts after the last job the API sent.
          return { ...page, items: [view, ...page.items] };
        }),
      // eslint-disable-next-line react-hooks/exhaustive-deps
      [set, firstPage, filterKey],
    ),
    reload,
  );

  return useMemo(
    () => ({
      jobs: query.data?.items ?? [],
      loading: query.loading,
      error: query.error,
      page: cursors.length,
      hasNext: Boolean(query.data?.nextCursor),
      hasPrevious: cursors.length > 1,
      next: () => {
        const nextCursor = query.data?.nextCursor;
        if (nextCursor) setCursors((c) => [...c, nextCursor]);
      },
      previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
      reload,
    }),
    [query.data, query.loading, query.error, cursors.length, reload],
  );
}
