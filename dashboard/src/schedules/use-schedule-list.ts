import { useCallback, useEffect, useMemo, useState } from 'react';
import { dataOf } from '../api/api-client';
import { useSession } from '../auth/session';
import type { Paging } from '../jobs/pager';
import { useQuery } from '../ui/use-query';
import type { ScheduleView } from './schedule-commands';

export interface ScheduleList extends Paging {
  schedules: ScheduleView[];
  loading: boolean;
  error: Error | undefined;
  reload(): void;
  /** A schedule as a change made here answered it: shown at once, and kept over an older read. */
  apply(view: ScheduleView): void;
}

const LIMIT = 50;
/**
 * Schedules have no stream: the list is read again this often, so that their next fire times move on and a schedule
 * created or changed elsewhere shows up.
 */
const REFRESH_MS = 5000;

/**
 * A page of `GET /v1/schedules`, oldest first. The list is read from the projection, which lags a moment behind a
 * change; the changes made in this view are kept by revision, so that a read from before them cannot undo them.
 */
export function useScheduleList(
  /** A schedule just deleted here: left out, whatever a read that lags behind still lists. */
  deleted: string | null = null,
): ScheduleList {
  const { api } = useSession();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors.at(-1) ?? null;
  const query = useQuery(`schedules|${cursor}`, async (signal) =>
    dataOf(
      await api.GET('/v1/schedules', { params: { query: { limit: LIMIT, ...(cursor ? { cursor } : {}) } }, signal }),
    ),
  );
  const [changed, setChanged] = useState<ReadonlyMap<string, ScheduleView | 'deleted'>>(
    () => new Map(deleted ? [[deleted, 'deleted']] : []),
  );
  const { reload } = query;

  useEffect(() => {
    const interval = window.setInterval(reload, REFRESH_MS);
    return () => window.clearInterval(interval);
  }, [reload]);

  const apply = useCallback((view: ScheduleView) => setChanged((c) => new Map(c).set(view.id, view)), []);

  const schedules = useMemo(
    () =>
      (query.data?.items ?? []).flatMap((read) => {
        const mine = changed.get(read.id);
        if (mine === 'deleted') return [];
        return [mine && mine.revision > read.revision ? mine : read];
      }),
    [query.data, changed],
  );

  return {
    schedules,
    loading: query.loading,
    error: query.error,
    reload,
    apply,
    page: cursors.length,
    hasNext: Boolean(query.data?.nextCursor),
    hasPrevious: cursors.length > 1,
    next: () => {
      const nextCursor = query.data?.nextCursor;
      if (nextCursor) setCursors((c) => [...c, nextCursor]);
    },
    previous: () => setCursors((c) => (c.length > 1 ? c.slice(0, -1) : c)),
  };
}
