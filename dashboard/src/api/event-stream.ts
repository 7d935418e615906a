import { EventSourceParserStream } from 'eventsource-parser/stream';

export interface StreamMessage {
  event?: string;
  id?: string;
  data: string;
}

export interface FollowOptions {
  /** Same-origin path, query included. */
  path: string;
  token: string;
  signal: AbortSignal;
  onMessage(message: StreamMessage): void;
  /** Each time the stream (re)opens: a live-only stream's reader catches up on what it missed then. */
  onOpen?(): void;
  /** While the stream is down; it is tried again after the server's retry delay. */
  onDown?(reason: string): void;
  onUnauthorized?(): void;
}

const DEFAULT_RETRY_MS = 2000;

/**
 * Follows a Server-Sent Events stream of the API. An EventSource cannot send the Authorization header the API
 * authenticates with, so this reads the stream with fetch and parses it with eventsource-parser, reconnecting as an
 * EventSource would: after the server's `retry` delay, with the last event id as `Last-Event-ID`, and not at all once
 * the server answers 204 or the signal aborts. Resolves when it stops.
 */
export async function followEventStream(options: FollowOptions): Promise<void> {
  const { signal } = options;
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  while (!signal.aborted) {
    try {
      const headers: Record<string, string> = {
        Authorization: `Bearer ${options.token}`,
        Accept: 'text/event-stream',
      };
      if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
      const response = await fetch(options.path, { headers, signal, cache: 'no-store' });
      if (response.status === 204) return;
      if (response.status === 401) {
        options.onUnauthorized?.();
        return;
      }
      if (!response.ok || !response.body) throw new Error(`the stream answered ${response.status}`);
      options.onOpen?.();
      const reader = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(
          new EventSourceParserStream({
            onRetry: (ms) => {
              retryMs = ms;
            },
          }),
        )
        .getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value.id) lastEventId = value.id;
        options.onMessage({ event: value.event, id: value.id, data: value.data });
      }
      options.onDown?.('the stream ended');
    } catch (err) {
      if (signal.aborted) return;
      options.onDown?.(err instanceof Error ? err.message : String(err));
    }
    await pause(retryMs, signal);
  }
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
