import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { waitFor } from '@jobline/libs/testing';

/** An open Server-Sent Events response, read as it arrives. */
export interface SseStream {
  status: number;
  contentType: string | null;
  /** Every event received so far, in order. */
  readonly events: EventSourceMessage[];
  /** True once the server ended the response. */
  readonly ended: boolean;
  /** Waits until `count` events have arrived. */
  waitForEvents(count: number, timeoutMs?: number): Promise<EventSourceMessage[]>;
  /** Waits until the server ends the response; its events. */
  waitForEnd(timeoutMs?: number): Promise<EventSourceMessage[]>;
  close(): void;
}

/** Opens `url` as an event stream, the way an EventSource would (with headers of the caller's choosing). */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  const events: EventSourceMessage[] = [];
  let ended = false;
  if (res.body && res.headers.get('content-type')?.startsWith('text/event-stream')) {
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          parser.feed(decoder.decode(chunk, { stream: true }));
        }
      } catch {
        // closed by the client
      } finally {
        ended = true;
      }
    })();
  } else {
    await res.arrayBuffer().catch(() => undefined);
    ended = true;
  }
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    get ended() {
      return ended;
    },
    waitForEvents: (count, timeoutMs = 30_000) =>
      waitFor(() => (events.length >= count ? events.slice(0, count) : undefined), {
        timeoutMs,
        description: `${count} events from ${url}`,
      }),
    waitForEnd: (timeoutMs = 30_000) =>
      waitFor(() => (ended ? events : undefined), { timeoutMs, description: `the end of ${url}` }),
    close: () => abort.abort(),
  };
}
