import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { createApiClient, type ApiClient } from '../api/api-client';

const STORAGE_KEY = 'jobline.token';

export interface Session {
  token: string;
  tenantId: string;
  api: ApiClient;
}

interface SessionState {
  session: Session | null;
  /** Why the last session ended, when the API ended it (a revoked or wrong token). */
  endedBecause: string | null;
  signIn(token: string, tenantId: string): void;
  signOut(reason?: string): void;
}

const SessionContext = createContext<SessionState | null>(null);

/** The token is kept for the tab only (sessionStorage): closing the tab signs out. */
function stored(): { token: string; tenantId: string } | null {
  try {
    const value = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? 'null') as unknown;
    if (value && typeof value === 'object' && 'token' in value && 'tenantId' in value) {
      return { token: String(value.token), tenantId: String(value.tenantId) };
    }
  } catch {
    // An unreadable entry is as good as none.
  }
  return null;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [credentials, setCredentials] = useState(stored);
  const [endedBecause, setEndedBecause] = useState<string | null>(null);

  const signOut = useCallback((reason?: string) => {
    sessionStorage.removeItem(STORAGE_KEY);
    setCredentials(null);
    setEndedBecause(reason ?? null);
  }, []);

  const signIn = useCallback((token: string, tenantId: string) => {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify({ token, tenantId }));
    setEndedBecause(null);
    setCredentials({ token, tenantId });
  }, []);

  const value = useMemo<SessionState>(() => {
    const session = credentials && {
      ...credentials,
      api: createApiClient(credentials.token, () => signOut('The API no longer accepts this token.')),
    };
    return { session, endedBecause, signIn, signOut };
  }, [credentials, endedBecause, signIn, signOut]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSessionState(): SessionState {
  const state = useContext(SessionContext);
  if (!state) throw new Error('useSessionState outside SessionProvider');
  return state;
}

/** The signed-in session; the views that use it are only shown to a signed-in person. */
export function useSession(): Session & { signOut: SessionState['signOut'] } {
  const { session, signOut } = useSessionState();
  if (!session) throw new Error('useSession without a session');
  return { ...session, signOut };
}
