import { z } from 'zod';
import { ExportRequest, JobEvent, JobView, NotifySpec, type ErrorCode } from '@jobline/libs';
import { CreateJobRequest, createJobBatchRequest } from './create-job-request';
import { CreateTimerRequest, TimerView } from './create-timer-request';
import { BookExportRequest, ExportView } from './exports-router';
import { ImportView } from './imports-router';
import { HealthReport, ReadinessReport } from './health-reports';
import { ListJobsParams } from './list-jobs-query';
import { ProblemDetails, problemStatus } from './problem-details';

export interface OpenApiOptions {
  /** Most jobs one batch may create, as the producer is configured. */
  batchMaxJobs: number;
}

type JsonObject = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, JsonObject>>;
  [key: string]: unknown;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** The registry's schemas as OpenAPI components, referring to each other by `#/components/schemas/<id>`. */
function componentSchemas(entries: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(entries)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    target: 'draft-2020-12',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...schema }]) => [id, schema]),
  );
}

function inlineSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonObject {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' });
  return rest;
}

const LIST_PARAMETERS: Record<keyof typeof ListJobsParams.shape, string> = {
  status: 'one status or several, comma-separated (`failed,cancelled`)',
  type: 'the job type',
  createdAfter: 'jobs created at or after this instant (ISO 8601 with offset)',
  createdBefore: 'jobs created before this instant (ISO 8601 with offset)',
  limit: 'jobs per page',
  cursor: '`nextCursor` of the previous page, unchanged, with the same filters',
};

/** The query parameters of `GET /v1/jobs`, from the schema that validates them. */
function listParameters(): JsonObject[] {
  const query = inlineSchema(ListJobsParams, 'input') as {
    properties: Record<string, JsonObject>;
    required?: string[];
  };
  const named = Object.entries(LIST_PARAMETERS).map(([name, description]) => ({
    name,
    in: 'query',
    required: query.required?.includes(name) ?? false,
    description,
    schema: query.properties[name],
  }));
  return [
    ...named,
    {
      name: 'metadata.<key>',
      in: 'query',
      required: false,
      description:
        'jobs whose metadata has this value at `<key>`, e.g. `metadata.customer=acme`; one parameter per key, ' +
        'all must match. The key may not contain `.` or start with `$`.',
      schema: { type: 'string' },
    },
  ];
}

const json = (schema: JsonObject) => ({ content: { 'application/json': { schema } } });

const JobIdParameter = {
  name: 'id',
  in: 'path',
  required: true,
  description:
    'the job id (a UUID); an id that is not a UUID, and another tenant’s job, answer 404; a path that is not valid ' +
    'percent-encoding answers 400',
  schema: { type: 'string', format: 'uuid' },
};

const IdempotencyKeyParameter = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Per tenant, remembered for IDEMPOTENCY_TTL_SECONDS: the same key with the same body answers with the jobs the ' +
    'first request created (and `Idempotent-Replayed: true`); with another body it is a 409.',
  schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' },
};

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': {
    description: 'requests the token may make per window (RATE_LIMIT_PER_MINUTE, or the token’s own limit)',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': { description: 'requests left in the current window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'seconds until the window ends', schema: { type: 'integer' } },
};

/** Every authenticated answer that got past the token check carries the token's rate-limit state. */
function withRateLimitHeaders(document: OpenApiDocument): OpenApiDocument {
  for (const [path, operations] of Object.entries(document.paths)) {
    if (!path.startsWith('/v1/')) continue;
    for (const operation of Object.values(operations)) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, JsonObject>)) {
        if (status.startsWith('2')) response.headers = { ...(response.headers as JsonObject), ...RATE_LIMIT_HEADERS };
      }
    }
  }
  return document;
}

/**
 * The OpenAPI 3.1 document of the producer's HTTP API. Request and response bodies are converted from the zod
 * schemas the code validates and types them with; only the paths, parameters and statuses are written here.
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const schemas = {
    // Request bodies as a client may send them (defaults optional), responses as the producer writes them.
    ...componentSchemas(
      {
        CreateJobRequest,
        CreateJobBatchRequest: createJobBatchRequest(options.batchMaxJobs, CreateJobRequest),
        CreateTimerRequest,
        CreateExportRequest: z
          .union([ExportRequest, BookExportRequest])
          .and(z.object({ notify: NotifySpec.optional() }))
          .describe('records of a resource with format, filters and fields; or a book as EPUB or PDF'),
      },
      'input',
    ),
    ...componentSchemas(
      {
        JobView,
        TimerView,
        ImportView,
        ExportView,
        JobBatch: z.object({ jobs: z.array(JobView) }),
        JobPage: z.object({
          items: z.array(JobView),
          nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last page'),
        }),
        JobEventList: z.object({ items: z.array(JobEvent) }),
        JobEvent,
        ...Object.fromEntries(JobEvent.options.map((event) => [event.shape.type.value, event])),
        ProblemDetails,
        CallbackSecret: z.object({
          secret: z.string(),
          signatureHeader: z.string(),
          deliveryHeader: z.string(),
          scheme: z.string(),
        }),
        HealthReport,
        ReadinessReport,
      },
      'output',
    ),
  };

  /** Error responses by status, each naming the codes this operation really answers with. */
  const problems = (...codes: ErrorCode[]) => {
    const byStatus = new Map<number, ErrorCode[]>();
    for (const code of ['UNAUTHORIZED', 'RATE_LIMITED', ...codes, 'INTERNAL'] as ErrorCode[]) {
      const status = problemStatus(code);
      byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
    }
    return Object.fromEntries(
      [...byStatus].map(([status, statusCodes]) => {
        const narrowed = z.looseObject({ status: z.literal(status), code: z.enum(statusCodes) });
        const response: JsonObject = {
          description: statusCodes.map((c) => `\`${c}\``).join(', '),
          content: {
            'application/problem+json': { schema: { allOf: [ref('ProblemDetails'), inlineSchema(narrowed)] } },
          },
        };
        if (status === 503) response.headers = { 'Retry-After': retryAfterHeader };
        if (status === 401) response.headers = { 'WWW-Authenticate': { schema: { type: 'string' } } };
        if (status === 429) response.headers = { 'Retry-After': retryAfterHeader, ...RATE_LIMIT_HEADERS };
        return [String(status), response];
      }),
    );
  };
  const eventStream = (description: string): JsonObject => ({
    description,
    content: { 'text/event-stream': { schema: { type: 'string', description: 'data: see JobView' } } },
  });
  const retryAfterHeader = { description: 'seconds to wait before retrying', schema: { type: 'integer' } };
  const acceptedHeaders = {
    'Idempotent-Replayed': {
      description: '`true` when an earlier request with the same Idempotency-Key created the jobs',
      schema: { type: 'string', enum: ['true'] },
    },
  };
  const creation: ErrorCode[] = [
    'VALIDATION_FAILED',
    'PAYLOAD_TOO_LARGE',
    'UNSUPPORTED_MEDIA_TYPE',
    'IDEMPOTENCY_KEY_REUSED',
    'KAFKA_UNAVAILABLE',
    'DEPENDENCY_UNAVAILABLE',
  ];
  const jobCommand = (operationId: string, summary: string, description: string, conflict: ErrorCode): JsonObject => ({
    operationId,
    summary,
    description,
    tags: ['jobs'],
    parameters: [JobIdParameter],
    responses: {
      '202': { description: 'the command is in Kafka; the job view after it', ...json(ref('JobView')) },
      ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND', conflict, 'KAFKA_UNAVAILABLE'),
    },
  });

  return withRateLimitHeaders({
    openapi: '3.1.0',
    info: {
      title: 'jobline',
      version: '1',
      license: { name: 'MIT', identifier: 'MIT' },
      description:
        'Asynchronous jobs over HTTP. Every change of a job is an event in Kafka; `202 Accepted` means the event is ' +
        'durably in the log. Errors are RFC 9457 problem details with a stable `code`.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'jobs', description: 'jobs of the token’s tenant' },
      {
        name: 'timers',
        description:
          'a URL called once when due: an `http` job that POSTs `{id, payload}`; cancel it with POST /v1/jobs/{id}/cancel',
      },
      { name: 'imports', description: 'bulk data and book imports' },
      { name: 'exports', description: 'bulk data and book exports, and their files' },
      { name: 'callbacks', description: 'verifying the requests jobline sends to `callbackUrl`' },
      { name: 'operations', description: 'health, readiness and this document; no token needed' },
    ],
    paths: {
      '/v1/jobs': {
        get: {
          operationId: 'listJobs',
          summary: 'List jobs',
          description:
            'The tenant’s jobs in the projection, newest first (createdAt, then id), one page at a time. A cursor is ' +
            'tied to the filters it was issued for.',
          tags: ['jobs'],
          parameters: listParameters(),
          responses: {
            '200': { description: 'one page of jobs', ...json(ref('JobPage')) },
            ...problems('VALIDATION_FAILED'),
          },
        },
        post: {
          operationId: 'createJob',
          summary: 'Create a job',
          description: 'Answers once the job’s JobRequested event is in Kafka (acks=-1).',
          tags: ['jobs'],
          parameters: [IdempotencyKeyParameter],
          requestBody: { required: true, ...json(ref('CreateJobRequest')) },
          responses: {
            '202': {
              description: 'the job is in Kafka',
              headers: {
                Location: { description: 'the job’s URL', schema: { type: 'string' } },
                ...acceptedHeaders,
              },
              ...json(ref('JobView')),
            },
            ...problems(...creation),
          },
        },
      },
      '/v1/jobs/batch': {
        post: {
          operationId: 'createJobs',
          summary: 'Create many jobs, all or none',
          description:
            `Up to ${options.batchMaxJobs} jobs (BATCH_MAX_JOBS). Every job is validated before any is created; ` +
            'field names of invalid jobs carry their index (`jobs.2.payload.ms`). The views come in request order.',
          tags: ['jobs'],
          parameters: [IdempotencyKeyParameter],
          requestBody: { required: true, ...json(ref('CreateJobBatchRequest')) },
          responses: {
            '202': { description: 'every job is in Kafka', headers: acceptedHeaders, ...json(ref('JobBatch')) },
            ...problems(...creation),
          },
        },
      },
      '/v1/jobs/{id}/events': {
        get: {
          operationId: 'listJobEvents',
          summary: 'A job’s event history',
          description:
            'The job’s stored events in log order, as published on `jobline.job-events`. Empty for a job accepted a ' +
            'moment ago whose events are not persisted yet.',
          tags: ['jobs'],
          parameters: [JobIdParameter],
          responses: {
            '200': { description: 'the events', ...json(ref('JobEventList')) },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND'),
          },
        },
      },
      '/v1/jobs/{id}/result': {
        get: {
          operationId: 'getJobResult',
          summary: 'The stored response of an `http` job',
          description:
            'For an `http` job created with `store: true` and completed: the response body as the remote server ' +
            'sent it, with its content type, as an attachment. This path is the job’s `resultUrl`. Other jobs, and ' +
            'jobs that have not completed, answer 404.',
          tags: ['jobs'],
          parameters: [JobIdParameter],
          responses: {
            '200': {
              description: 'the stored body',
              headers: {
                'Content-Disposition': { description: '`attachment`', schema: { type: 'string' } },
              },
              content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
            },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND', 'BLOB_NOT_FOUND'),
          },
        },
      },
      '/v1/jobs/{id}/stream': {
        get: {
          operationId: 'streamJob',
          summary: 'Live updates of a job (Server-Sent Events)',
          description:
            'Each change of the job as an SSE event named `job` whose data is the JobView and whose id is the ' +
            'position of the change in the log. A new client first gets the current view; the stream ends after a ' +
            'terminal status. Comments keep the connection alive (SSE_HEARTBEAT_MS). To resume, send the last id ' +
            'received as `Last-Event-ID` (an EventSource does so by itself): every change after it follows, in order; ' +
            'if the client already saw the end, the answer is 204 so that an EventSource stops reconnecting.',
          tags: ['jobs'],
          parameters: [
            JobIdParameter,
            {
              name: 'Last-Event-ID',
              in: 'header',
              description: 'the id of the last event received',
              schema: { type: 'string', pattern: '^\\d{1,15}$' },
            },
            {
              name: 'lastEventId',
              in: 'query',
              description: 'the same, for clients that cannot set headers',
              schema: { type: 'string', pattern: '^\\d{1,15}$' },
            },
          ],
          responses: {
            '200': eventStream('`event: job`, `id: <log offset>`, `data: <JobView>` per change'),
            '204': { description: 'the client saw the terminal status already: nothing more will come' },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND', 'TOO_MANY_STREAMS', 'DEPENDENCY_UNAVAILABLE'),
          },
        },
      },
      '/v1/stream': {
        get: {
          operationId: 'streamJobs',
          summary: 'Live updates of all the tenant’s jobs (Server-Sent Events)',
          description:
            'Every change of any of the tenant’s jobs from the moment of connecting, as SSE events named `job` ' +
            'carrying the JobView. Live only (events carry no id): after a reconnect, list the jobs to catch up.',
          tags: ['jobs'],
          parameters: [
            {
              name: 'type',
              in: 'query',
              description: 'only jobs of this type',
              schema: { type: 'string', minLength: 1, maxLength: 100 },
            },
          ],
          responses: {
            '200': eventStream('`event: job`, `data: <JobView>` per change'),
            ...problems('VALIDATION_FAILED', 'TOO_MANY_STREAMS', 'DEPENDENCY_UNAVAILABLE'),
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          operationId: 'getJob',
          summary: 'A job',
          tags: ['jobs'],
          parameters: [JobIdParameter],
          responses: {
            '200': { description: 'the job view', ...json(ref('JobView')) },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND'),
          },
        },
      },
      '/v1/jobs/{id}/cancel': {
        post: jobCommand(
          'cancelJob',
          'Cancel a job',
          '`pending` or `scheduled`: cancelled, never runs; `processing`: aborted through its signal. A timer is ' +
            'cancelled here too, by its id.',
          'JOB_NOT_CANCELLABLE',
        ),
      },
      '/v1/jobs/{id}/retry': {
        post: jobCommand(
          'retryJob',
          'Redrive a failed job',
          'The job gets `maxAttempts` more attempts; attempt numbers keep counting.',
          'JOB_NOT_RETRYABLE',
        ),
      },
      '/v1/timers': {
        post: {
          operationId: 'createTimer',
          summary: 'Create a timer',
          description:
            'A timer is an `http` job, scheduled at `runAt` (or now plus hours, minutes and seconds), that POSTs ' +
            '`{"id": <timer id>, "payload": <payload>}` as JSON to `url`, signed like callbacks (`Jobline-Signature`), ' +
            'with `Idempotency-Key` and `Jobline-Job-Id` set to the timer id. Its id is the job’s: follow it at ' +
            '/v1/jobs/{id} and cancel it with POST /v1/jobs/{id}/cancel. Answers once the job is in Kafka (acks=-1).',
          tags: ['timers'],
          parameters: [IdempotencyKeyParameter],
          requestBody: { required: true, ...json(ref('CreateTimerRequest')) },
          responses: {
            '201': {
              description: 'the timer’s job is in Kafka',
              headers: {
                Location: { description: 'the timer’s URL', schema: { type: 'string' } },
                ...acceptedHeaders,
              },
              ...json(ref('TimerView')),
            },
            ...problems(...creation),
          },
        },
      },
      '/v1/timers/{id}': {
        get: {
          operationId: 'getTimer',
          summary: 'A timer and the time left',
          description: 'A job that is not a timer, and another tenant’s timer, answer 404.',
          tags: ['timers'],
          parameters: [{ ...JobIdParameter, description: 'the timer id (a UUID); other ids answer 404' }],
          responses: {
            '200': { description: 'the timer', ...json(ref('TimerView')) },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND'),
          },
        },
      },
      '/v1/imports': {
        post: {
          operationId: 'createImport',
          summary: 'Import a file',
          description:
            'The multipart field `file` is streamed to the blob store (at most IMPORT_MAX_BYTES) and a job loads it: ' +
            '`data.import` for `users`, `articles`, `comments` or `mixed` (NDJSON, JSON array or CSV, told by type, ' +
            'name or content; every record validated, relations checked, rejected records reported), `book.import` ' +
            'for `books` (a Markdown manuscript or an EPUB). The Idempotency-Key is bound to the file’s content. ' +
            'Instead of a file, `{url}` as JSON has the runner download it (SSRF-guarded) into the blob store first.',
          tags: ['imports'],
          parameters: [
            IdempotencyKeyParameter,
            {
              name: 'resource',
              in: 'query',
              required: true,
              schema: { type: 'string', enum: ['users', 'articles', 'comments', 'mixed', 'books'] },
            },
            ...['title', 'author', 'language'].map((name) => ({
              name,
              in: 'query',
              description: `books only: the ${name} when the file does not give one`,
              schema: { type: 'string' },
            })),
          ],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['url'],
                  additionalProperties: false,
                  properties: {
                    url: { type: 'string', maxLength: 2048, description: 'http(s), downloaded by the runner' },
                  },
                },
              },
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file'],
                  properties: { file: { type: 'string', format: 'binary' } },
                },
              },
            },
          },
          responses: {
            '202': {
              description: 'the import job is in Kafka',
              headers: {
                Location: { description: 'the import’s URL', schema: { type: 'string' } },
                ...acceptedHeaders,
              },
              ...json(ref('ImportView')),
            },
            ...problems(...creation),
          },
        },
        get: {
          operationId: 'listImports',
          summary: 'List imports',
          description:
            'The tenant’s `data.import` and `book.import` jobs, with the filters and cursor of GET /v1/jobs.',
          tags: ['imports'],
          parameters: listParameters(),
          responses: { '200': { description: 'one page', ...json(ref('JobPage')) }, ...problems('VALIDATION_FAILED') },
        },
      },
      '/v1/imports/{id}': {
        get: {
          operationId: 'getImport',
          summary: 'An import and its report',
          tags: ['imports'],
          parameters: [JobIdParameter],
          responses: {
            '200': { description: 'the import', ...json(ref('ImportView')) },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND'),
          },
        },
      },
      '/v1/exports': {
        post: {
          operationId: 'createExport',
          summary: 'Export to a file',
          description:
            'A `data.export` job writes the records to the blob store as NDJSON, a JSON array or CSV; a `book.export` ' +
            'job writes a book as an EPUB 3 or a PDF. `notify: {email}` mails a signed download link when it is done.',
          tags: ['exports'],
          parameters: [IdempotencyKeyParameter],
          requestBody: { required: true, ...json(ref('CreateExportRequest')) },
          responses: {
            '202': {
              description: 'the export job is in Kafka',
              headers: {
                Location: { description: 'the export’s URL', schema: { type: 'string' } },
                ...acceptedHeaders,
              },
              ...json(ref('ExportView')),
            },
            ...problems(...creation),
          },
        },
        get: {
          operationId: 'listOrStreamExports',
          summary: 'List exports, or stream one',
          description:
            'Without `resource`: the tenant’s `data.export` and `book.export` jobs, with the filters and cursor of ' +
            'GET /v1/jobs. With `resource` (`users`, `articles`, `comments`) and `format` (`ndjson`, `json`, `csv`; ' +
            'default `ndjson`), and optionally `fields` (comma-separated): the records streamed straight into the ' +
            'response as a download, at the pace the client reads.',
          tags: ['exports'],
          parameters: [
            ...listParameters(),
            { name: 'resource', in: 'query', schema: { type: 'string', enum: ['users', 'articles', 'comments'] } },
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['ndjson', 'json', 'csv'] } },
            { name: 'fields', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': {
              description: 'one page of export jobs, or the streamed records',
              content: {
                'application/json': { schema: ref('JobPage') },
                'application/x-ndjson': { schema: { type: 'string' } },
                'text/csv': { schema: { type: 'string' } },
              },
            },
            ...problems('VALIDATION_FAILED'),
          },
        },
      },
      '/v1/exports/{id}': {
        get: {
          operationId: 'getExport',
          summary: 'An export, with its download link once done',
          tags: ['exports'],
          parameters: [JobIdParameter],
          responses: {
            '200': { description: 'the export', ...json(ref('ExportView')) },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND'),
          },
        },
      },
      '/v1/exports/{id}/download': {
        get: {
          operationId: 'downloadExport',
          summary: 'The exported file',
          description:
            'With the token of the export’s tenant, or without one through the signed `downloadUrl` ' +
            '(`expires` and `signature` query parameters).',
          tags: ['exports'],
          security: [{ bearer: [] }, {}],
          parameters: [
            JobIdParameter,
            { name: 'expires', in: 'query', schema: { type: 'string' } },
            { name: 'signature', in: 'query', schema: { type: 'string' } },
          ],
          responses: {
            '200': { description: 'the file, as an attachment', content: { 'application/octet-stream': {} } },
            ...problems('VALIDATION_FAILED', 'JOB_NOT_FOUND', 'EXPORT_NOT_READY'),
          },
        },
      },
      '/v1/callbacks/secret': {
        get: {
          operationId: 'getCallbackSecret',
          summary: 'The tenant’s secret for verifying callbacks',
          description:
            'Each `callbackUrl` request carries `Jobline-Signature: t=<unix seconds>,v1=<hex>`, the HMAC-SHA256 of ' +
            '`<t>.<raw body>` keyed with this secret, and `Jobline-Delivery`, the same on every attempt of one ' +
            'delivery. Verify the HMAC in constant time and refuse old timestamps. Requests of `http` jobs and ' +
            'timers carry the same `Jobline-Signature`, with `Idempotency-Key` and `Jobline-Job-Id` (the job id).',
          tags: ['callbacks'],
          responses: {
            '200': { description: 'the secret and how it is used', ...json(ref('CallbackSecret')) },
            ...problems(),
          },
        },
      },
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Liveness',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'the process answers', ...json(ref('HealthReport')) } },
        },
      },
      '/ready': {
        get: {
          operationId: 'getReadiness',
          summary: 'Readiness of Kafka, MongoDB and Redis',
          tags: ['operations'],
          security: [],
          responses: {
            '200': { description: 'every dependency answers', ...json(ref('ReadinessReport')) },
            '503': { description: 'a dependency is down', ...json(ref('ReadinessReport')) },
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'the OpenAPI document', ...json({ type: 'object' }) } },
        },
      },
      '/docs': {
        get: {
          operationId: 'getSwaggerUi',
          summary: 'Swagger UI for this document',
          tags: ['operations'],
          security: [],
          responses: { '200': { description: 'an HTML page', content: { 'text/html': {} } } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API token from `npm run tokens -- create` or API_TOKENS; it decides the tenant and counts against ' +
            'its rate limit. `Authorization: Token <token>` works too.',
        },
      },
      schemas,
    },
  });
}
