import {
  CALLBACK_SIGNATURE_HEADER,
  HTTP_JOB_LIMITS,
  HttpPayload,
  JoblineError,
  httpJobBodyText,
  httpJobMethod,
  httpJobResponseKey,
  httpJobResultPath,
  parseRetryAfter,
  signCallback,
  tenantCallbackSecret,
  type BlobStore,
  type GuardedHttpClient,
  type OutboundResponse,
} from '@jobline/libs';
import type { JobHandler } from './job-handler';

/** Sent with every request of an `http` job: the job's id, so that receivers can relate a call to its job. */
export const JOB_ID_HEADER = 'Jobline-Job-Id';
/** The job id again, under the name idempotent APIs look for: the same on every attempt of the job. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
/** How much of a text response the job's result keeps; the rest is counted in `bodyBytes`, not kept. */
export const RESULT_BODY_BYTES = 65_536;
/** The response headers the result keeps: enough to tell what came back, without storing every header. */
const RESULT_HEADERS = ['content-type', 'content-encoding', 'etag', 'last-modified', 'location'];

export interface HttpHandlerDeps {
  /** The SSRF-guarded client, configured with OUTBOUND_ALLOWLIST. */
  http: Pick<GuardedHttpClient, 'request'>;
  /** The deployment's CALLBACK_SIGNING_KEY: requests are signed with the tenant's callback secret derived from it. */
  callbackSigningKey: string;
  /** Where responses of jobs with `store: true` are kept; without it such jobs fail for good. */
  blobs?: BlobStore;
  /** Milliseconds since the epoch, for signature timestamps and `Retry-After` dates. @defaultValue `Date.now` */
  now?: () => number;
}

/** What a completed `http` job records as its result. */
export interface HttpJobResult {
  status: number;
  headers: Record<string, string>;
  /** Length of the response body as received. */
  bodyBytes: number;
  /** A text response's body (JSON, XML, text/*), cut at RESULT_BODY_BYTES; absent for other types. */
  body?: string;
  /** Whether `body` was cut. */
  truncated?: boolean;
  /** The blob store key of the whole body, for a job with `store: true` (served at the job's `resultUrl`). */
  storedAs?: string;
}

/**
 * Sends one HTTP request and judges the answer. A status in `expectStatus` (any 2xx by default) completes the job; a
 * 5xx, 408 or 429, a timeout or a network error fails the attempt for a retry, not sooner than a `Retry-After` asks;
 * any other answer, and a URL the SSRF guard refuses, fails the job for good. With `store: true` the whole body goes to
 * the blob store under the job, and `resultUrl` points at the API path that serves it.
 */
export function createHttpHandler(deps: HttpHandlerDeps): JobHandler {
  const now = deps.now ?? Date.now;
  return async (job, ctx) => {
    const payload = HttpPayload.parse(job.payload);
    const method = httpJobMethod(payload);
    const body = httpJobBodyText(payload.body);
    const headers: Record<string, string> = {};
    if (body !== undefined && !hasHeader(payload.headers, 'content-type')) {
      headers['content-type'] = typeof payload.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    }
    Object.assign(headers, payload.headers);
    const secret = tenantCallbackSecret(deps.callbackSigningKey, job.tenantId);
    headers[CALLBACK_SIGNATURE_HEADER] = signCallback(secret, Math.floor(now() / 1000), body ?? '');
    headers[IDEMPOTENCY_KEY_HEADER] = ctx.idempotencyKey;
    headers[JOB_ID_HEADER] = job.id;

    const response = await deps.http.request({
      method,
      url: payload.url,
      headers,
      body,
      signal: ctx.signal,
      timeoutMs: payload.timeoutMs ?? HTTP_JOB_LIMITS.defaultTimeoutMs,
    });
    if (!isExpected(response.status, payload.expectStatus)) {
      throw statusError(method, response, payload.expectStatus, now());
    }
    if (!payload.store) return { result: describeResponse(response) };
    if (!deps.blobs) throw new JoblineError('CONFIG_INVALID', 'this runner has no blob store to keep the response in');
    const key = httpJobResponseKey(job.tenantId, job.id);
    const contentType = [response.headers['content-type'] ?? ''].flat()[0]!.trim();
    // The key is the job's own: a rerun of the job replaces what an earlier attempt stored.
    await deps.blobs.put(key, response.body, contentType ? { contentType } : {});
    return { result: { ...describeResponse(response, false), storedAs: key }, resultUrl: httpJobResultPath(job.id) };
  };
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}

function isExpected(status: number, expect: HttpPayload['expectStatus']): boolean {
  if (expect === undefined) return status >= 200 && status < 300;
  return typeof expect === 'number' ? status === expect : expect.includes(status);
}

/** Answers that may well differ on another try: the server's trouble, a request timeout, a rate limit. */
function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

function statusError(
  method: string,
  response: OutboundResponse,
  expect: HttpPayload['expectStatus'],
  now: number,
): JoblineError {
  const retryable = isRetryableStatus(response.status);
  const retryAfterMs = retryable ? (parseRetryAfter(response.headers['retry-after'], now) ?? undefined) : undefined;
  const host = new URL(response.url).host;
  const expected = expect === undefined ? 'a 2xx' : [expect].flat().join(' or ');
  const parts = [`${method} ${host} answered ${response.status}, expected ${expected}`];
  if (retryAfterMs !== undefined) parts.push(`Retry-After ${Math.ceil(retryAfterMs / 1000)} s`);
  const text = textOf(response);
  if (text?.body) parts.push(text.body.slice(0, 200));
  return new JoblineError('OUTBOUND_UNEXPECTED_STATUS', parts.join('; '), { retryable, retryAfterMs });
}

/** The result of a job: status, a few headers, the body's length and, unless it is stored apart, its text. */
function describeResponse(response: OutboundResponse, withBody = true): HttpJobResult {
  const headers: Record<string, string> = {};
  for (const name of RESULT_HEADERS) {
    const value = response.headers[name];
    if (value !== undefined) headers[name] = [value].flat().join(', ');
  }
  return { status: response.status, headers, bodyBytes: response.body.length, ...(withBody ? textOf(response) : {}) };
}

const TEXT_TYPE = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded)\b|[^;]*\+(json|xml)\b)/i;

/**
 * A text response's body, cut at RESULT_BODY_BYTES on a character boundary; undefined for a binary one. Without a
 * content type, a body that is valid UTF-8 counts as text.
 */
function textOf(response: OutboundResponse): { body: string; truncated: boolean } | undefined {
  const contentType = [response.headers['content-type'] ?? ''].flat()[0]!.trim();
  let end = Math.min(response.body.length, RESULT_BODY_BYTES);
  // Back off to the start of a UTF-8 sequence, so that the cut does not leave half a character.
  if (end < response.body.length) while (end > 0 && (response.body[end]! & 0xc0) === 0x80) end -= 1;
  const kept = response.body.subarray(0, end);
  if (contentType !== '') {
    if (!TEXT_TYPE.test(contentType)) return undefined;
    return { body: new TextDecoder().decode(kept), truncated: end < response.body.length };
  }
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(kept), truncated: end < response.body.length };
  } catch {
    return undefined;
  }
}
