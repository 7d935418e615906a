import { Badge, Tooltip } from '@mantine/core';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { useSession } from '../auth/session';
import { isTerminal, type JobView } from './api-client';
import { followEventStream } from './event-stream';

type Listener = (view: JobView) => void;
type Reconnected = () => void;

interface LiveJobs {
  connected: boolean;
  subscribe(listener: Listener, reconnected?: Reconnected): () => void;
}

const LiveJobsContext = createContext<LiveJobs | null>(null);

/**
 * One stream of every change of the tenant's jobs (`GET /v1/stream`) for the whole dashboard; views subscribe to it.
 * The stream is live only, so after a reconnect each subscriber is told to catch up by reading again.
 */
export function LiveJobsProvider({ children }: { children: ReactNode }) {
  const { token, signOut } = useSession();
  const listeners = useRef(new Set<{ listener: Listener; reconnected?: Reconnected }>());
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const controller = new AbortController();
    let opened = 0;
    void followEventStream({
      path: '/v1/stream',
      token,
      signal: controller.signal,
      onOpen() {
        setConnected(true);
        opened += 1;
        if (opened > 1) for (const { reconnected } of listeners.current) reconnected?.();
      },
      onDown() {
        setConnected(false);
      },
      onUnauthorized: () => signOut('The API no longer accepts this token.'),
      onMessage(message) {
        if (message.event !== 'job') return;
        const view = JSON.parse(message.data) as JobView;
        for (const { listener } of listeners.current) listener(view);
      },
    });
    return () => controller.abort();
  }, [token, signOut]);

  const subscribe = useCallback<LiveJobs['subscribe']>((listener, reconnected) => {
    const entry = { listener, reconnected };
    listeners.current.add(entry);
    return () => listeners.current.delete(entry);
  }, []);
  const value = useMemo(() => ({ connected, subscribe }), [connected, subscribe]);

  return <LiveJobsContext.Provider value={value}>{children}</LiveJobsContext.Provider>;
}

/** Calls `onJob` with every changed job view of the tenant, and `onReconnect` when changes may have been missed. */
export function useLiveJobs(onJob: Listener, onReconnect?: Reconnected): void {
  const subscribe = useContext(LiveJobsContext)?.subscribe;
  const handlers = useRef({ onJob, onReconnect });
  handlers.current = { onJob, onReconnect };
  useEffect(() => {
    if (!subscribe) return;
    const unsubscribe = subscribe(
      (view) => handlers.current.onJob(view),
      () => handlers.current.onReconnect?.(),
    );
    return () => {
      unsubscribe();
    };
  }, [subscribe]);
}

export function LiveIndicator() {
  const live = useContext(LiveJobsContext);
  const connected = live?.connected ?? false;
  return (
    <Tooltip label={connected ? 'Changes arrive as they happen' : 'Reconnecting to the live stream'}>
      <Badge color={connected ? 'teal' : 'yellow'} variant="dot" data-testid="live-indicator" data-live={connected}>
        {connected ? 'live' : 'reconnecting'}
      </Badge>
    </Tooltip>
  );
}

/**
 * Follows one job (`GET /v1/jobs/{id}/stream`): every view of it from now on, resuming where it stopped after a
 * drop, until its terminal status.
 */
export function useJobStream(jobId: string | null, onView: (view: JobView) => void): void {
  const { token, signOut } = useSession();
  const handler = useRef(onView);
  handler.current = onView;
  useEffect(() => {
    if (!jobId) return;
    const controller = new AbortController();
    void followEventStream({
      path: `/v1/jobs/${encodeURIComponent(jobId)}/stream`,
      token,
      signal: controller.signal,
      onUnauthorized: () => signOut('The API no longer accepts this token.'),
      onMessage(message) {
        if (message.event !== 'job') return;
        const view = JSON.parse(message.data) as JobView;
        handler.current(view);
        // The server ends the stream after a terminal view; without an id to resume from it would send it again.
        if (isTerminal(view.status) && message.id === undefined) controller.abort();
      },
    });
    return () => controller.abort();
  }, [jobId, token, signOut]);
}
