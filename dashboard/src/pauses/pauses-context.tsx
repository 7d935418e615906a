import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { dataOf, type Schemas } from '../api/api-client';
import { useSession } from '../auth/session';

export type PausesView = Schemas['PausesView'];

/** What holds a job type's jobs: the tenant's pause (which holds every type) or the type's own. */
export interface Holding {
  scope: 'tenant' | 'type';
  reason: string | null;
  pausedAt: string;
  pausedBy: string;
}

export function pauseHolding(pauses: PausesView, type: string): Holding | null {
  if (pauses.tenant) return { scope: 'tenant', ...pauses.tenant };
  const own = pauses.types.find((p) => p.type === type);
  return own ? { scope: 'type', reason: own.reason, pausedAt: own.pausedAt, pausedBy: own.pausedBy } : null;
}

export const isAnythingPaused = (pauses: PausesView | undefined): boolean =>
  Boolean(pauses && (pauses.tenant || pauses.types.length > 0));

interface PausesState {
  pauses: PausesView | undefined;
  error: Error | undefined;
  reload(): void;
  /** What a pause or resume answered: the state after it, shown at once everywhere. */
  apply(view: PausesView): void;
}

const PausesContext = createContext<PausesState | null>(null);

/** Pauses change rarely and have no stream: they are read again this often, and when the tab comes back. */
const REFRESH_MS = 10_000;

/**
 * What is paused of the tenant (`GET /v1/pauses`), for every view: the banner, the pauses view, a held job's page.
 * A change made here is shown from its answer at once; a read that was already under way when the change was answered
 * is dropped, so that it cannot bring back the state before it.
 */
export function PausesProvider({ children }: { children: ReactNode }) {
  const { api } = useSession();
  const [state, setState] = useState<Pick<PausesState, 'pauses' | 'error'>>({ pauses: undefined, error: undefined });
  const sequence = useRef(0);
  const appliedAt = useRef(0);

  const reload = useCallback(() => {
    const started = ++sequence.current;
    api.GET('/v1/pauses').then(
      (result) => {
        if (started < appliedAt.current) return;
        try {
          setState({ pauses: dataOf(result), error: undefined });
        } catch (error) {
          setState((s) => ({ ...s, error: error as Error }));
        }
      },
      (error: unknown) =>
        started >= appliedAt.current &&
        setState((s) => ({ ...s, error: error instanceof Error ? error : new Error(String(error)) })),
    );
  }, [api]);

  const apply = useCallback((pauses: PausesView) => {
    appliedAt.current = ++sequence.current;
    setState({ pauses, error: undefined });
  }, []);

  useEffect(() => {
    reload();
    const interval = window.setInterval(reload, REFRESH_MS);
    const onVisible = () => document.visibilityState === 'visible' && reload();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.clearInterval(interval);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [reload]);

  const value = useMemo<PausesState>(() => ({ ...state, reload, apply }), [state, reload, apply]);
  return <PausesContext.Provider value={value}>{children}</PausesContext.Provider>;
}

export function usePauses(): PausesState {
  const state = useContext(PausesContext);
  if (!state) throw new Error('usePauses outside PausesProvider');
  return state;
}
