import { useCallback, useEffect, useRef, useState } from 'react';

export interface Query<T> {
  data: T | undefined;
  error: Error | undefined;
  /** True until the first answer; a reload keeps showing the data it replaces. */
  loading: boolean;
  reload(): void;
  /** Replaces the data in place (a live update), without asking the API. */
  set(update: (data: T) => T): void;
}

/**
 * Loads `load()` now and whenever `key` changes; a load that an earlier one overtook is dropped, so the data shown is
 * always that of the latest key.
 */
export function useQuery<T>(key: string, load: (signal: AbortSignal) => Promise<T>): Query<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; loading: boolean }>({
    key,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setState((s) => (s.key === key ? s : { key, loading: true }));
    loadRef.current(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ key, data, loading: false }),
      (error: unknown) =>
        !controller.signal.aborted &&
        setState((s) => ({
          key,
          data: s.key === key ? s.data : undefined,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        })),
    );
    return () => controller.abort();
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const set = useCallback(
    (update: (data: T) => T) =>
      setState((s) => (s.data === undefined ? s : { ...s, data: update(s.data), error: undefined })),
    [],
  );
  const current = state.key === key;
  return {
    data: current ? state.data : undefined,
    error: current ? state.error : undefined,
    loading: !current || state.loading,
    reload,
    set,
  };
}
