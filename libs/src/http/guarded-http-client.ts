import { promises as dns, type LookupAddress } from 'node:dns';
import { Transform, finished, type Readable } from 'node:stream';
import type { LookupFunction } from 'node:net';
import { Agent, type Dispatcher } from 'undici';
import { JoblineError, isJoblineError } from '../errors/jobline-error';
import {
  checkOutboundAddress,
  isTrustedHostname,
  EMPTY_OUTBOUND_ALLOW_LIST,
  type OutboundAllowList,
} from './address-policy';
import { checkOutboundUrl } from './outbound-url';

/** Resolves a hostname to every address it has, like `dns.lookup(hostname, { all: true })`. */
export type OutboundLookup = (hostname: string) => Promise<readonly LookupAddress[]>;

export interface GuardedHttpClientOptions {
  /** Addresses and names allowed beyond the public internet. @defaultValue nothing */
  allowList?: OutboundAllowList;
  /** Largest response body read; a longer one fails with `OUTBOUND_RESPONSE_TOO_LARGE`. @defaultValue 1048576 (1 MiB) */
  maxResponseBytes?: number;
  /** Redirects followed per request; one more fails with `OUTBOUND_TOO_MANY_REDIRECTS`. @defaultValue 3 */
  maxRedirects?: number;
  /** Deadline of a whole request, redirects and body included, unless the request sets its own. @defaultValue 10000 */
  timeoutMs?: number;
  /** Name resolution, replaceable in tests. @defaultValue `dns.promises.lookup` with `all: true` */
  lookup?: OutboundLookup;
  /** Sent as `User-Agent` unless the request sets one. @defaultValue `jobline` */
  userAgent?: string;
}

export interface OutboundRequest {
  /** @defaultValue `GET` */
  method?: string;
  url: string | URL;
  headers?: Record<string, string>;
  /** Buffered, so that a 307 or 308 can send it again. */
  body?: string | Uint8Array;
  /** Aborting it rejects the request with the signal's reason. */
  signal?: AbortSignal;
  /** Overrides the client's `timeoutMs` for this request. */
  timeoutMs?: number;
}

export interface OutboundResponse {
  /** Any status: a 4xx or 5xx is the caller's to judge. */
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
  redirects: number;
}

/** A response whose body is read as it arrives. */
export interface OutboundStreamResponse extends Omit<OutboundResponse, 'body'> {
  /** Errors with `OUTBOUND_RESPONSE_TOO_LARGE` once more than the cap has come. */
  body: Readable;
}

export interface GuardedHttpClient {
  request(request: OutboundRequest): Promise<OutboundResponse>;
  /**
   * The same request, but the body is handed over as a stream of at most `maxBytes` (for files: a download is never
   * held in memory). The timeout covers the wait for the response head; a stalled body fails on undici's idle timeout.
   */
  stream(request: OutboundRequest & { maxBytes: number }): Promise<OutboundStreamResponse>;
  /** Closes pooled connections once requests in flight are done. */
  close(): Promise<void>;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Credentials meant for one origin must not follow a redirect to another (as fetch does for Authorization). */
const ORIGIN_BOUND_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * An HTTP client for URLs that users supply (job callbacks, `http` jobs), guarded against server-side request
 * forgery: it never connects to loopback, private, link-local, CGNAT, metadata or other non-public addresses unless
 * the allow-list admits them.
 *
 * The check sits where the connection is made: the agent's `lookup` vets every address a name resolves to and hands
 * only those to the socket, so a name that answers one address to a check and another to the connect (DNS
 * rebinding) gains nothing. An IP literal skips `lookup` in Node's `net`, so literals are checked before sending.
 * Redirects are followed here rather than by undici, so that every hop gets the same checks.
 */
export function createGuardedHttpClient(options: GuardedHttpClientOptions = {}): GuardedHttpClient {
  const allowList = options.allowList ?? EMPTY_OUTBOUND_ALLOW_LIST;
  const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 3;
  const defaultTimeoutMs = options.timeoutMs ?? 10_000;
  const userAgent = options.userAgent ?? 'jobline';
  const agent = new Agent({
    connect: { lookup: guardedLookup(options.lookup ?? systemLookup, allowList) },
  });

  /** Sends the request, following redirects through the same checks, and hands the final response to `take`. */
  async function exchange<T>(
    input: OutboundRequest,
    take: (response: Dispatcher.ResponseData, url: URL, method: string, redirects: number) => Promise<T>,
  ): Promise<T> {
    let url = checkedUrl(input.url, allowList);
    const timeoutMs = input.timeoutMs ?? defaultTimeoutMs;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const signal = input.signal ? AbortSignal.any([input.signal, deadline.signal]) : deadline.signal;
    let method = (input.method ?? 'GET').toUpperCase();
    let body = input.body;
    let headers = withUserAgent(input.headers ?? {}, userAgent);
    let redirects = 0;
    try {
      for (;;) {
        const response = await agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: method as Dispatcher.HttpMethod,
          headers,
          body,
          signal,
        });
        const location = response.headers.location;
        if (REDIRECT_STATUSES.has(response.statusCode) && typeof location === 'string') {
          await response.body.dump();
          if (redirects >= maxRedirects) {
            throw new JoblineError(
              'OUTBOUND_TOO_MANY_REDIRECTS',
              `${url.host} redirected more than ${maxRedirects} times`,
            );
          }
          redirects += 1;
          const next = checkedUrl(resolveLocation(location, url), allowList, 'redirect to ');
          if (dropsBody(response.statusCode, method)) {
            method = 'GET';
            body = undefined;
            headers = without(headers, BODY_HEADERS);
          }
          if (next.origin !== url.origin) headers = without(headers, ORIGIN_BOUND_HEADERS);
          url = next;
          continue;
        }
        return await take(response, url, method, redirects);
      }
    } catch (err) {
      if (input.signal?.aborted) throw input.signal.reason;
      if (deadline.signal.aborted) {
        throw new JoblineError('OUTBOUND_TIMEOUT', `${method} ${url.host} took longer than ${timeoutMs} ms`, {
          retryable: true,
          cause: err,
        });
      }
      throw outboundError(err, url);
    } finally {
      clearTimeout(timer);
    }
  }

  const request = (input: OutboundRequest) =>
    exchange(input, async (response, url, method, redirects) => ({
      status: response.statusCode,
      headers: definedHeaders(response.headers),
      body: await readCapped(response, maxResponseBytes, url, method),
      url: url.href,
      redirects,
    }));

  const stream = (input: OutboundRequest & { maxBytes: number }) =>
    // The deadline is the head's: the body outlives this call, so only the caller's own signal may cut it short.
    exchange({ ...input, signal: undefined }, async (response, url, _method, redirects) => ({
      status: response.statusCode,
      headers: definedHeaders(response.headers),
      body: cappedStream(response, input.maxBytes, url, input.signal),
      url: url.href,
      redirects,
    }));

  return { request, stream, close: () => agent.close() };
}

const systemLookup: OutboundLookup = (hostname) => dns.lookup(hostname, { all: true });

/**
 * A `net` lookup that fails unless every address of the name is allowed. Mixing public and internal answers is what
 * a rebinding attempt looks like; an error that says so is easier to act on than a connection that quietly went to
 * one of the other addresses.
 */
function guardedLookup(resolve: OutboundLookup, allowList: OutboundAllowList): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    const family = lookupOptions.family === 'IPv4' ? 4 : lookupOptions.family === 'IPv6' ? 6 : lookupOptions.family;
    resolve(hostname).then(
      (found) => {
        const addresses = family === 4 || family === 6 ? found.filter((a) => a.family === family) : [...found];
        const first = addresses[0];
        if (!first) {
          callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND', hostname }), '');
          return;
        }
        if (!isTrustedHostname(hostname, allowList)) {
          for (const { address } of addresses) {
            const decision = checkOutboundAddress(address, allowList);
            if (!decision.allowed) {
              callback(new JoblineError('OUTBOUND_ADDRESS_BLOCKED', `${hostname} resolves to ${decision.message}`), '');
              return;
            }
          }
        }
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, ''),
    );
  };
}

function checkedUrl(input: string | URL, allowList: OutboundAllowList, prefix = ''): URL {
  const check = checkOutboundUrl(input, allowList);
  if (check.ok) return check.url;
  throw new JoblineError(check.code, `${prefix}${check.message}`);
}

function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    throw new JoblineError('OUTBOUND_URL_INVALID', `${base.host} redirected to an invalid location`);
  }
}

/** 303 turns anything but HEAD into GET; 301 and 302 do so for POST, as browsers and fetch have always done. */
function dropsBody(status: number, method: string): boolean {
  if (status === 303) return method !== 'GET' && method !== 'HEAD';
  return (status === 301 || status === 302) && method === 'POST';
}

function withUserAgent(headers: Record<string, string>, userAgent: string): Record<string, string> {
  const hasOwn = Object.keys(headers).some((name) => name.toLowerCase() === 'user-agent');
  return hasOwn ? { ...headers } : { ...headers, 'user-agent': userAgent };
}

function without(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !names.includes(name.toLowerCase())));
}

function definedHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string | string[]> {
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) result[name] = value;
  return result;
}

/** Reads the body, giving up as soon as it is known to exceed the cap (so a huge body is never held in memory). */
async function readCapped(
  response: Dispatcher.ResponseData,
  maxBytes: number,
  url: URL,
  method: string,
): Promise<Buffer> {
  const tooLarge = () =>
    new JoblineError('OUTBOUND_RESPONSE_TOO_LARGE', `the response from ${url.host} exceeds ${maxBytes} bytes`);
  // A HEAD response declares the length of a body it does not send.
  const declared = method === 'HEAD' ? NaN : Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    abandon(response.body);
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    total += buffer.length;
    if (total > maxBytes) {
      abandon(response.body);
      throw tooLarge();
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, total);
}

/** The body as a stream that errors with `OUTBOUND_RESPONSE_TOO_LARGE` past `maxBytes`, and with the signal. */
function cappedStream(
  response: Dispatcher.ResponseData,
  maxBytes: number,
  url: URL,
  signal: AbortSignal | undefined,
): Readable {
  const tooLarge = () =>
    new JoblineError('OUTBOUND_RESPONSE_TOO_LARGE', `the response from ${url.host} exceeds ${maxBytes} bytes`);
  let total = 0;
  const capped = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length;
      callback(total > maxBytes ? tooLarge() : null, chunk);
    },
  });
  // The body may fail before anyone reads it (a declared length over the cap is known at once; the connection may drop
  // while the caller still looks at the head): the stream keeps the error for pipeline() or for-await to report,
  // rather than emitting it to nobody, which would end the process.
  capped.on('error', () => undefined);
  if (Number(response.headers['content-length']) > maxBytes) {
    abandon(response.body);
    capped.destroy(tooLarge());
    return capped;
  }
  const stop = () => capped.destroy(signal?.reason as Error);
  signal?.addEventListener('abort', stop, { once: true });
  // Not pipeline(): it would destroy `capped` with undici's own error before it could be named an outbound failure.
  response.body.pipe(capped);
  finished(response.body, (err) => {
    if (err) capped.destroy(outboundError(err, url));
  });
  finished(capped, () => {
    signal?.removeEventListener('abort', stop);
    // Past the cap, aborted, or left by its reader: the rest of the response is not wanted.
    if (!response.body.readableEnded) abandon(response.body);
  });
  return capped;
}

/** undici errors a body destroyed before its end with an abort, which nobody is left to listen for. */
function abandon(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

function outboundError(err: unknown, url: URL): JoblineError {
  if (isJoblineError(err)) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_INVALID_ARG') {
    return new JoblineError('VALIDATION_FAILED', `invalid outbound request: ${message}`, { cause: err });
  }
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new JoblineError('OUTBOUND_TIMEOUT', `${url.host}: ${message}`, { retryable: true, cause: err });
  }
  const suffix = typeof code === 'string' ? ` (${code})` : '';
  return new JoblineError('OUTBOUND_NETWORK', `${url.host}: ${message}${suffix}`, { retryable: true, cause: err });
}
