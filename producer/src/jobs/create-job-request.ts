import { z } from 'zod';
import {
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  MIN_PRIORITY,
  Priority,
  DEFAULT_BACKOFF,
  HTTP_URL_FORMAT,
  checkOutboundUrl,
  type OutboundAllowList,
  JOB_PAYLOAD_SCHEMAS,
  JOB_TYPES,
  JoblineError,
  isJobType,
  newEvent,
  type FieldIssue,
  type JobEventOf,
  type JobType,
  timeOrderedId,
} from '@jobline/libs';

/** Attempts a job gets unless it asks otherwise, and the most it may ask for. */
export const DEFAULT_MAX_ATTEMPTS = 3;
export const MAX_ATTEMPTS_LIMIT = 25;
/** The furthest a job may be scheduled ahead: a year. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3_600_000;
/** The largest payload, serialized as JSON, unless the producer is configured otherwise (MAX_PAYLOAD_BYTES). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 262_144;
/**
 * How deeply a payload may nest. MongoDB refuses documents nested deeper than 100 levels, and the payload sits inside
 * the job and event documents; a payload the projection cannot store would stall the persister on its event.
 */
export const MAX_PAYLOAD_DEPTH = 32;
const HOUR_MS = 3_600_000;
export const MAX_CALLBACK_URL_LENGTH = 2048;
/** Metadata keys with this prefix are set by jobline itself (`jobline-timer`), never by clients. */
export const RESERVED_METADATA_PREFIX = 'jobline-';

/** `{email}`: whom to mail a job's outcome. */
export const NotifyRequest = z
  .object({
    // zod's pattern is the rule; JSON Schema's `email` format is another one, narrower in places.
    email: z.email().max(254).meta({ format: undefined }),
  })
  .strict()
  .describe('`{email}`: mailed the outcome and the result link when the job completes, fails or is cancelled');

/** The fields of a job request; `CreateJobRequest` adds what holds between them. */
export const CreateJobFields = z
  .object({
    type: z.string().min(1).max(100),
    payload: z
      .record(z.string(), z.unknown())
      .default({})
      .describe(
        `the job's input, checked against the type's schema; at most MAX_PAYLOAD_BYTES as JSON (` +
          `${DEFAULT_MAX_PAYLOAD_BYTES} unless configured), nested at most ${MAX_PAYLOAD_DEPTH} levels deep`,
      ),
    metadata: z
      .record(z.string().max(100), z.string().max(1000))
      .refine((m) => Object.keys(m).length <= 50, 'at most 50 metadata entries')
      .superRefine((m, ctx) => {
        for (const key of Object.keys(m)) {
          if (key.startsWith(RESERVED_METADATA_PREFIX)) {
            ctx.addIssue({
              code: 'custom',
              path: [key],
              message: `keys starting with ${RESERVED_METADATA_PREFIX} are reserved`,
            });
          }
        }
      })
      .default({}),
    /** When the runners are saturated, a job of higher priority starts before those of lower priority. */
    priority: Priority.default(DEFAULT_PRIORITY).describe(
      `${MIN_PRIORITY} (lowest) to ${MAX_PRIORITY} (highest), default ${DEFAULT_PRIORITY}: when every runner slot is ` +
        'busy, a freed slot takes the waiting job of highest priority, then the tenant with fewest jobs running, then ' +
        'the oldest.',
    ),
    /** Attempts before the job fails for good and is dead-lettered. */
    maxAttempts: z.number().int().min(1).max(MAX_ATTEMPTS_LIMIT).default(DEFAULT_MAX_ATTEMPTS),
    /** Wait between attempts; equal jitter is applied. */
    backoff: z
      .object({
        type: z.enum(['fixed', 'exponential']),
        delayMs: z
          .number()
          .int()
          .min(0)
          .max(24 * HOUR_MS),
        maxDelayMs: z
          .number()
          .int()
          .min(0)
          .max(7 * 24 * HOUR_MS)
          .optional(),
      })
      .strict()
      .optional(),
    /** Longest one attempt may run; past it the handler is aborted and the attempt counts as failed. */
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(24 * HOUR_MS)
      .optional(),
    /** Do not start before this instant (ISO 8601 with offset). */
    runAt: z.iso.datetime({ offset: true }).optional(),
    /** Do not start before this many milliseconds from now. */
    delayMs: z.number().int().min(0).max(MAX_SCHEDULE_AHEAD_MS).optional(),
    /** Who is mailed the job's outcome and result link when it reaches a terminal status. */
    notify: NotifyRequest.optional(),
    /** Where the job view is POSTed, signed, when the job reaches a terminal status. */
    callbackUrl: z
      .string()
      .max(MAX_CALLBACK_URL_LENGTH)
      .meta(HTTP_URL_FORMAT)
      .optional()
      .describe(
        'http(s) URL that receives the job view, signed (Jobline-Signature), on completed, failed and cancelled; ' +
          'loopback, private, link-local and metadata addresses are refused (OUTBOUND_ALLOWLIST)',
      ),
  })
  .strict();

const runAtOrDelay = <T extends z.ZodType<{ runAt?: string; delayMs?: number }>>(request: T) =>
  request
    .refine((r) => r.runAt === undefined || r.delayMs === undefined, {
      message: 'give runAt or delayMs, not both',
      path: ['delayMs'],
    })
    .meta({ not: { required: ['runAt', 'delayMs'] } });

export const CreateJobRequest = runAtOrDelay(CreateJobFields);
export type CreateJobRequest = z.infer<typeof CreateJobRequest>;

/**
 * The body of `POST /v1/jobs` as the API document shows it: one variant per job type, each with the payload schema
 * the request is checked against once its type is known. `payload` may be left out where `{}` is a valid payload.
 */
export const CreateJobRequestByType = z.discriminatedUnion(
  'type',
  JOB_TYPES.map((type) => {
    const payload: z.ZodType = JOB_PAYLOAD_SCHEMAS[type];
    return runAtOrDelay(
      CreateJobFields.extend({
        type: z.literal(type),
        payload: (payload.safeParse({}).success ? payload.default({}) : payload).describe(
          CreateJobFields.shape.payload.description!,
        ),
      }),
    );
  }) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

type FieldPath = readonly PropertyKey[];

/** A dotted field name, `(body)` for the whole body: `payload.ms`, `jobs.3.type`. */
function fieldName(path: FieldPath): string {
  return path.map(String).join('.') || '(body)';
}

export function toFieldIssues(error: z.ZodError, prefix: FieldPath = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    field: fieldName([...prefix, ...issue.path]),
    message: issue.message,
    code: issue.code,
  }));
}

/** Bounds of a job request that the producer's configuration sets. */
export interface JobRequestLimits {
  /** Largest payload, serialized as JSON, in bytes. */
  maxPayloadBytes: number;
  /** What a `callbackUrl` may point at beyond public addresses. @defaultValue nothing */
  outboundAllowList?: OutboundAllowList;
}

const DEFAULT_LIMITS: JobRequestLimits = { maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES };

/**
 * A JSON value's serialized size in UTF-8 bytes (what `JSON.stringify` would write) and its nesting depth, measured
 * without recursion: a client may nest arrays thousands deep within the body limit, beyond what the call stack of a
 * recursive walk, or of `JSON.stringify` itself, survives. Stops counting once `maxBytes` is exceeded.
 */
export function measureJson(value: unknown, maxBytes = Infinity): { bytes: number; depth: number } {
  let bytes = 0;
  let depth = 0;
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0 && bytes <= maxBytes) {
    const next = pending.pop()!;
    if (next.value === null || typeof next.value !== 'object') {
      bytes += Buffer.byteLength(JSON.stringify(next.value) ?? 'null');
      continue;
    }
    const level = next.depth + 1;
    depth = Math.max(depth, level);
    const entries: [string | null, unknown][] = Array.isArray(next.value)
      ? next.value.map((item: unknown) => [null, item])
      : Object.entries(next.value);
    bytes += 2 + Math.max(entries.length - 1, 0);
    for (const [key, item] of entries) {
      if (key !== null) bytes += Buffer.byteLength(JSON.stringify(key)) + 1;
      pending.push({ value: item, depth: level });
    }
  }
  return { bytes, depth };
}

type Validated = { ok: true; request: CreateJobRequest } | { ok: false; message: string; issues: FieldIssue[] };

const INVALID_REQUEST = 'the job request is invalid';

const invalidField = (at: FieldPath, field: string, code: string, message: string): Validated => ({
  ok: false,
  message: INVALID_REQUEST,
  issues: [{ field: fieldName([...at, field]), code, message }],
});

/**
 * Payload fields, per job type, holding a URL that the runner will call. Checked at the edge as `callbackUrl` is, so
 * that an address the SSRF guard would refuse is a 400 naming the field rather than a job that fails later.
 */
const OUTBOUND_URL_FIELDS: Partial<Record<JobType, readonly string[]>> = { http: ['url'], 'data.import': ['url'] };

const URI_TEXT = 'a URI is written in visible ASCII: percent-encode other characters';

/**
 * Whether a URL is written as RFC 3986 has URIs: visible ASCII only. The WHATWG parser would take other characters
 * and encode them itself, but the API document promises the `uri` format, and a client's URL is kept as written.
 */
function isUriText(url: string): boolean {
  return /^[\x21-\x7e]+$/.test(url);
}

/** Checks one job request, the body and the payload against the job type's schema, naming fields under `at`. */
function validateCreateJob(body: unknown, at: FieldPath, limits: JobRequestLimits): Validated {
  const parsed = CreateJobRequest.safeParse(body ?? {});
  if (!parsed.success) return { ok: false, message: INVALID_REQUEST, issues: toFieldIssues(parsed.error, at) };
  const request = parsed.data;
  if (!isJobType(request.type)) {
    return invalidField(at, 'type', 'invalid_value', `unknown job type; one of: ${JOB_TYPES.join(', ')}`);
  }
  if (request.callbackUrl !== undefined) {
    if (!isUriText(request.callbackUrl)) return invalidField(at, 'callbackUrl', 'invalid_format', URI_TEXT);
    // Only what can be seen without DNS; the callback's HTTP client checks every address a name resolves to.
    const url = checkOutboundUrl(request.callbackUrl, limits.outboundAllowList);
    if (!url.ok) return invalidField(at, 'callbackUrl', url.problem, url.message);
  }
  // Before the type's schema, so that an oversized payload is named as such whatever else is wrong with it.
  const size = measureJson(request.payload, limits.maxPayloadBytes);
  if (size.bytes > limits.maxPayloadBytes) {
    return invalidField(at, 'payload', 'too_big', `at most ${limits.maxPayloadBytes} bytes as JSON`);
  }
  if (size.depth > MAX_PAYLOAD_DEPTH) {
    return invalidField(at, 'payload', 'too_big', `nested at most ${MAX_PAYLOAD_DEPTH} levels deep`);
  }
  const payload = JOB_PAYLOAD_SCHEMAS[request.type].safeParse(request.payload);
  if (!payload.success) {
    return {
      ok: false,
      message: `the payload is invalid for job type ${request.type}`,
      issues: toFieldIssues(payload.error, [...at, 'payload']),
    };
  }
  for (const field of OUTBOUND_URL_FIELDS[request.type] ?? []) {
    const value: unknown = (payload.data as Record<string, unknown>)[field];
    if (typeof value !== 'string') continue;
    if (!isUriText(value)) return invalidField([...at, 'payload'], field, 'invalid_format', URI_TEXT);
    const url = checkOutboundUrl(value, limits.outboundAllowList);
    if (!url.ok) return invalidField([...at, 'payload'], field, url.problem, url.message);
  }
  if (request.runAt !== undefined && Date.parse(request.runAt) - Date.now() > MAX_SCHEDULE_AHEAD_MS) {
    return invalidField(at, 'runAt', 'too_big', 'runAt may be at most a year ahead');
  }
  return { ok: true, request: { ...request, payload: payload.data } };
}

/** Validates the body and the payload against the job type's schema; throws VALIDATION_FAILED with every issue. */
export function parseCreateJob(body: unknown, limits: JobRequestLimits = DEFAULT_LIMITS): CreateJobRequest {
  const result = validateCreateJob(body, [], limits);
  if (!result.ok) throw new JoblineError('VALIDATION_FAILED', result.message, { details: result.issues });
  return result.request;
}

/**
 * The body of `POST /v1/jobs/batch`. The parser takes its jobs as unknown and then validates each as the body of
 * `POST /v1/jobs`, so that every invalid job is reported by index; the API document shows them as that body.
 */
export const createJobBatchRequest = <Job extends z.ZodType>(maxJobs: number, job: Job) =>
  z.object({ jobs: z.array(job).min(1).max(maxJobs) }).strict();

/**
 * Validates every job of a batch before any is created: throws VALIDATION_FAILED with the issues of all invalid jobs,
 * their fields named by index (`jobs.3.payload.ms`), so that a batch is accepted whole or not at all.
 */
export function parseCreateJobBatch(
  body: unknown,
  maxJobs: number,
  limits: JobRequestLimits = DEFAULT_LIMITS,
): CreateJobRequest[] {
  const batch = createJobBatchRequest(maxJobs, z.unknown()).safeParse(body ?? {});
  if (!batch.success) {
    throw new JoblineError('VALIDATION_FAILED', 'the batch request is invalid', {
      details: toFieldIssues(batch.error),
    });
  }
  const requests: CreateJobRequest[] = [];
  const issues: FieldIssue[] = [];
  let invalid = 0;
  batch.data.jobs.forEach((job, index) => {
    const result = validateCreateJob(job, ['jobs', index], limits);
    if (result.ok) {
      requests.push(result.request);
    } else {
      invalid += 1;
      issues.push(...result.issues);
    }
  });
  if (invalid > 0) {
    throw new JoblineError('VALIDATION_FAILED', `${invalid} of the ${requests.length + invalid} jobs are invalid`, {
      details: issues,
    });
  }
  return requests;
}

/** When the job may start: `runAt`, or now + `delayMs`; null means now. */
function startTime(request: CreateJobRequest, now: Date): string | null {
  if (request.runAt !== undefined) return new Date(request.runAt).toISOString();
  if (request.delayMs !== undefined && request.delayMs > 0)
    return new Date(now.getTime() + request.delayMs).toISOString();
  return null;
}

/**
 * The event that records a client's request. The job id is assigned here, at the edge, unless the caller assigned it
 * already (a timer's request names its own id).
 */
export function jobRequestedEvent(
  request: CreateJobRequest,
  tenantId: string,
  now: Date,
  idempotencyKey: string | null = null,
  jobId: string = timeOrderedId(now),
): JobEventOf<'JobRequested'> {
  return newEvent(
    'JobRequested',
    { jobId, tenantId, source: 'producer', now },
    {
      type: request.type,
      payload: request.payload,
      runAt: startTime(request, now),
      maxAttempts: request.maxAttempts,
      backoff: request.backoff ?? DEFAULT_BACKOFF,
      timeoutMs: request.timeoutMs ?? null,
      callbackUrl: request.callbackUrl ?? null,
      notify: request.notify ?? null,
      metadata: request.metadata,
      idempotencyKey,
      priority: request.priority,
    },
  );
}

/** An `Idempotency-Key` header: absent, or 1 to 255 visible ASCII characters. */
export function parseIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) {
    throw new JoblineError('VALIDATION_FAILED', 'the Idempotency-Key header is invalid', {
      details: [{ field: 'Idempotency-Key', code: 'invalid_format', message: '1 to 255 visible ASCII characters' }],
    });
  }
  return header;
}
