import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Bounds of an `http` job's request. */
export const HTTP_JOB_LIMITS = {
  urlLength: 2048,
  headers: 32,
  headerNameLength: 100,
  headerValueLength: 4096,
  /** Names and values of all headers together, in bytes. */
  headerBytes: 8192,
  /** The body as sent: a string's UTF-8 bytes, or the JSON text of an object or array. */
  bodyBytes: 65_536,
  /** @defaultValue 10000 */
  defaultTimeoutMs: 10_000,
  maxTimeoutMs: 120_000,
  expectStatuses: 20,
} as const;

/**
 * Headers a job may not set: hop-by-hop headers (RFC 9110 §7.6.1) and those the HTTP client derives from the request
 * itself (`host`, `content-length`, `expect`), which a job could only use to smuggle a second request or confuse the
 * receiver. Names starting with `jobline-` and `idempotency-key` are jobline's own (signature, job id, idempotency
 * key), so a receiver can trust them.
 */
const FORBIDDEN_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
  'content-length',
  'expect',
  'idempotency-key',
]);

export function isForbiddenHttpJobHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return FORBIDDEN_HEADERS.has(lower) || lower.startsWith('jobline-');
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible ASCII, spaces and tabs: no CR or LF, so that a value cannot start another header. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

const StatusCode = z.number().int().min(100).max(599);

/**
 * An http(s) URL as JSON Schema states it, for the API document: what the SSRF guard refuses beyond that (loopback,
 * private, link-local and metadata addresses, credentials in the URL) depends on addresses, and is said in words.
 */
export const HTTP_URL_FORMAT = { format: 'uri', pattern: '^https?://[A-Za-z0-9.-]+(:[0-9]{1,4})?([/?#].*)?$' };

/** `name` in any case, as a regular expression: header names ignore case. */
const anyCase = (name: string) =>
  name.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`).replace(/[.-]/g, (c) => `\\${c}`);

/** The header names a job may not set, as a pattern for the API document. */
const FORBIDDEN_HEADER_PATTERN = `^(${[...FORBIDDEN_HEADERS].map(anyCase).join('|')}|${anyCase('jobline-')}.*)$`;

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Where the response of an `http` job with `store: true` is kept in the blob store. */
export function httpJobResponseKey(tenantId: string, jobId: string): string {
  return `${tenantId}/jobs/${jobId}/response`;
}

/** The `resultUrl` of an `http` job whose response is stored: the API path that serves it to the job's tenant. */
export function httpJobResultPath(jobId: string): string {
  return `/v1/jobs/${jobId}/result`;
}

/** The bytes `body` is sent as. */
export function httpJobBodyText(body: HttpPayload['body']): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** The method an `http` job sends: its own, else POST when it has a body and GET when it has none. */
export function httpJobMethod(payload: HttpPayload): HttpMethod {
  return payload.method ?? (payload.body === undefined ? 'GET' : 'POST');
}

/**
 * An `http` job: one HTTP request to a URL (a webhook, a timer firing, a fetch). Sent through the SSRF-guarded
 * client, signed like callbacks (`Jobline-Signature` over the raw body), with `Idempotency-Key: <job id>` and
 * `Jobline-Job-Id`.
 */
export const HttpPayload = z
  .object({
    method: z
      .enum(HTTP_METHODS)
      .optional()
      .describe('POST when the job has a body, GET when it has none; GET and HEAD take no body'),
    url: z
      .string()
      .min(1)
      .max(HTTP_JOB_LIMITS.urlLength)
      .refine(isHttpUrl, 'expected an absolute http or https URL')
      .meta(HTTP_URL_FORMAT)
      .describe(
        'http(s) URL; loopback, private, link-local and metadata addresses are refused (OUTBOUND_ALLOWLIST), also ' +
          'when a name resolves to one',
      ),
    headers: z
      .record(
        z
          .string()
          .min(1)
          .max(HTTP_JOB_LIMITS.headerNameLength)
          .regex(HEADER_NAME, 'expected an HTTP header name (RFC 9110 token)'),
        z
          .string()
          .max(HTTP_JOB_LIMITS.headerValueLength)
          .regex(HEADER_VALUE, 'expected visible ASCII, spaces and tabs'),
      )
      .meta({
        maxProperties: HTTP_JOB_LIMITS.headers,
        propertyNames: {
          type: 'string',
          minLength: 1,
          maxLength: HTTP_JOB_LIMITS.headerNameLength,
          pattern: HEADER_NAME.source,
          not: { pattern: FORBIDDEN_HEADER_PATTERN },
        },
      })
      .optional()
      .describe(
        `up to ${HTTP_JOB_LIMITS.headers} headers, ${HTTP_JOB_LIMITS.headerBytes} bytes in all; not hop-by-hop ` +
          'headers, host, content-length, expect, idempotency-key or jobline-*',
      ),
    body: z
      .union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())])
      .optional()
      .describe(
        `a string, sent as it is (text/plain unless headers say otherwise), or an object or array, sent as JSON ` +
          `(application/json); at most ${HTTP_JOB_LIMITS.bodyBytes} bytes`,
      ),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(HTTP_JOB_LIMITS.maxTimeoutMs)
      .optional()
      .describe(
        `longest the request may take, redirects and body included; ${HTTP_JOB_LIMITS.defaultTimeoutMs} if unset`,
      ),
    expectStatus: z
      .union([StatusCode, z.array(StatusCode).min(1).max(HTTP_JOB_LIMITS.expectStatuses)])
      .optional()
      .describe('the statuses that complete the job; any 2xx if unset'),
    store: z
      .boolean()
      .optional()
      .describe(
        'keep the response body in the blob store: the job’s resultUrl, GET /v1/jobs/{id}/result, serves it with its ' +
          'content type',
      ),
  })
  .strict()
  .superRefine((payload, ctx) => {
    const headers = Object.entries(payload.headers ?? {});
    if (headers.length > HTTP_JOB_LIMITS.headers) {
      ctx.addIssue({ code: 'custom', path: ['headers'], message: `at most ${HTTP_JOB_LIMITS.headers} headers` });
    }
    const bytes = headers.reduce((sum, [name, value]) => sum + name.length + value.length, 0);
    if (bytes > HTTP_JOB_LIMITS.headerBytes) {
      ctx.addIssue({
        code: 'custom',
        path: ['headers'],
        message: `at most ${HTTP_JOB_LIMITS.headerBytes} bytes of names and values`,
      });
    }
    const seen = new Set<string>();
    for (const [name] of headers) {
      if (isForbiddenHttpJobHeader(name)) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: `${name} may not be set by a job` });
      }
      if (seen.has(name.toLowerCase())) {
        ctx.addIssue({ code: 'custom', path: ['headers', name], message: 'given twice (names ignore case)' });
      }
      seen.add(name.toLowerCase());
    }
    const method = httpJobMethod(payload);
    if (payload.body !== undefined && (method === 'GET' || method === 'HEAD')) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${method} request has no body` });
    }
    const body = httpJobBodyText(payload.body);
    if (body !== undefined && Buffer.byteLength(body) > HTTP_JOB_LIMITS.bodyBytes) {
      ctx.addIssue({
        code: 'too_big',
        origin: 'string',
        maximum: HTTP_JOB_LIMITS.bodyBytes,
        path: ['body'],
        message: `at most ${HTTP_JOB_LIMITS.bodyBytes} bytes as sent`,
      });
    }
  })
  .meta({ not: { required: ['method', 'body'], properties: { method: { enum: ['GET', 'HEAD'] } } } });
export type HttpPayload = z.infer<typeof HttpPayload>;
