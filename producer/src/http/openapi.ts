import { z } from 'zod';
import type { ErrorCode } from '@jobline/libs';
import { getOpenApiDocument, getSwaggerUi } from './api-docs';
import {
  namedSchemas,
  type ApiMediaType,
  type ApiOperation,
  type ApiOperationSpec,
  type ApiOptions,
  type ApiSchema,
  type JsonObject,
} from './api-operation';
import { getCallbackSecret } from '../jobs/callback-secret-route';
import { getDashboard } from './dashboard-route';
import { EXPORTS_OPERATIONS } from '../data/exports-router';
import { DEAD_LETTERS_OPERATIONS } from '../dead-letters/dead-letters-router';
import { getHealth, getReadiness } from './health-reports';
import { IMPORTS_OPERATIONS } from '../data/imports-router';
import { streamJob, streamJobs } from '../jobs/job-streams';
import { getJobStats } from '../jobs/job-stats';
import { JOBS_OPERATIONS } from '../jobs/jobs-router';
import { ProblemDetails, problemStatus } from './problem-details';
import { SCHEDULES_OPERATIONS } from '../schedules/schedules-router';
import { PAUSES_OPERATIONS } from '../pauses/pauses-router';
import { TIMERS_OPERATIONS } from '../timers/timers-router';

export type OpenApiOptions = ApiOptions;

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, JsonObject>>;
  [key: string]: unknown;
}

/** Every operation the producer serves, as its routers declare them, in the document's order. */
export function apiOperations(): ApiOperation[] {
  return [
    ...JOBS_OPERATIONS,
    streamJob,
    streamJobs,
    getJobStats,
    ...TIMERS_OPERATIONS,
    ...SCHEDULES_OPERATIONS,
    ...DEAD_LETTERS_OPERATIONS,
    ...PAUSES_OPERATIONS,
    ...IMPORTS_OPERATIONS,
    ...EXPORTS_OPERATIONS,
    getCallbackSecret,
    getHealth,
    getReadiness,
    getOpenApiDocument,
    getSwaggerUi,
    getDashboard,
  ];
}

type Io = 'input' | 'output';
const COMPONENTS = '#/components/schemas/';

const isZod = (schema: ApiSchema): schema is z.ZodType => schema instanceof z.ZodType;

/**
 * Converts the zod schemas of a set of operations in two registries, requests as a client may send them (defaults
 * optional) and responses as the producer writes them. Named schemas become components that the others refer to.
 */
class SchemaConverter {
  private readonly used = new Map<z.ZodType, Io>();
  private converted = new Map<z.ZodType, JsonObject>();
  readonly components: Record<string, JsonObject> = {};

  use(schema: ApiSchema | undefined, io: Io): void {
    if (schema && isZod(schema) && !this.used.has(schema)) this.used.set(schema, io);
  }

  convert(): void {
    const names = new Map<z.ZodType, string>();
    const claimed = new Set<string>();
    for (const schema of this.used.keys()) {
      const name = namedSchemas().get(schema);
      if (name !== undefined) {
        names.set(schema, name);
        claimed.add(name);
      }
    }
    // Named schemas met only inside others (the job view inside a page) are components too, of responses.
    for (const [schema, name] of namedSchemas()) {
      if (!claimed.has(name)) names.set(schema, name);
    }
    const registries = { input: z.registry<{ id: string }>(), output: z.registry<{ id: string }>() };
    const ids = new Map<z.ZodType, string>();
    let anonymous = 0;
    for (const [schema, io] of this.used) {
      const id = names.get(schema) ?? `anonymous-${(anonymous += 1)}`;
      ids.set(schema, id);
      registries[io].add(schema, { id });
    }
    for (const [schema, name] of names) {
      if (!this.used.has(schema)) {
        ids.set(schema, name);
        registries.output.add(schema, { id: name });
      }
    }
    const byId = new Map<string, JsonObject>();
    for (const io of ['input', 'output'] as const) {
      const { schemas } = z.toJSONSchema(registries[io], {
        io,
        target: 'draft-2020-12',
        unrepresentable: 'any',
        uri: (id) => `${COMPONENTS}${id}`,
      });
      for (const [id, { $schema: _dialect, $id: _id, ...schema }] of Object.entries(schemas)) byId.set(id, schema);
    }
    // A schema without a name is written out where it is used, also inside another one.
    const inline = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(inline);
      if (typeof value !== 'object' || value === null) return value;
      const { $ref } = value as { $ref?: unknown };
      if (typeof $ref === 'string' && $ref.startsWith(`${COMPONENTS}anonymous-`)) {
        return inline(byId.get($ref.slice(COMPONENTS.length)));
      }
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, inline(item)]));
    };
    for (const [schema, id] of ids) {
      const json = inline(byId.get(id)) as JsonObject;
      if (names.has(schema)) this.components[id] = json;
      this.converted.set(schema, names.has(schema) ? { $ref: `${COMPONENTS}${id}` } : json);
    }
    this.components.ProblemDetails ??= this.converted.get(ProblemDetails) ?? {};
  }

  /** The JSON Schema of `schema`: a reference to its component, or the schema itself. */
  json(schema: ApiSchema): JsonObject {
    return isZod(schema) ? this.converted.get(schema)! : schema;
  }

  /** An object schema's properties, each with its description and whether it is required. */
  properties(schema: z.ZodObject): { name: string; required: boolean; description?: string; schema: JsonObject }[] {
    const json = this.json(schema) as { properties?: Record<string, JsonObject>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, { description, ...property }]) => ({
      name,
      required: json.required?.includes(name) ?? false,
      description: description as string | undefined,
      schema: property,
    }));
  }
}

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': {
    description: 'requests the token may make per window (RATE_LIMIT_PER_MINUTE, or the token’s own limit)',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': { description: 'requests left in the current window', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'seconds until the window ends', schema: { type: 'integer' } },
};
const RETRY_AFTER = { description: 'seconds to wait before retrying', schema: { type: 'integer' } };

/** Error responses by status, each naming the codes this operation really answers with. */
function problemResponses(codes: readonly ErrorCode[], converter: SchemaConverter): Record<string, JsonObject> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = problemStatus(code);
    const known = byStatus.get(status) ?? [];
    if (!known.includes(code)) byStatus.set(status, [...known, code]);
  }
  return Object.fromEntries(
    [...byStatus].map(([status, statusCodes]) => {
      const narrowed = z.toJSONSchema(z.looseObject({ status: z.literal(status), code: z.enum(statusCodes) }), {
        target: 'draft-2020-12',
      });
      delete narrowed.$schema;
      const response: JsonObject = {
        description: statusCodes.map((c) => `\`${c}\``).join(', '),
        content: {
          'application/problem+json': { schema: { allOf: [converter.json(ProblemDetails), narrowed] } },
        },
      };
      if (status === 503) response.headers = { 'Retry-After': RETRY_AFTER };
      if (status === 401) response.headers = { 'WWW-Authenticate': { schema: { type: 'string' } } };
      if (status === 405)
        response.headers = { Allow: { description: 'the methods the path serves', schema: { type: 'string' } } };
      if (status === 429) response.headers = { 'Retry-After': RETRY_AFTER, ...RATE_LIMIT_HEADERS };
      return [String(status), response];
    }),
  );
}

function content(media: Record<string, ApiMediaType>, converter: SchemaConverter): JsonObject {
  return Object.fromEntries(
    Object.entries(media).map(([type, { schema, example }]) => [
      type,
      { ...(schema ? { schema: converter.json(schema) } : {}), ...(example !== undefined ? { example } : {}) },
    ]),
  );
}

function parameters(spec: ApiOperationSpec, converter: SchemaConverter): JsonObject[] {
  const fromObject = (schema: z.ZodObject | undefined, location: 'path' | 'query' | 'header') =>
    schema
      ? converter.properties(schema).map(({ name, required, description, schema: property }) => ({
          name,
          in: location,
          required: location === 'path' || required,
          ...(description ? { description } : {}),
          schema: property,
        }))
      : [];
  const query = spec.query;
  return [
    ...fromObject(spec.path, 'path'),
    ...(query instanceof z.ZodObject
      ? fromObject(query, 'query')
      : query
        ? [
            {
              name: query.name,
              in: 'query',
              required: !query.schema.safeParse({}).success,
              description: `${query.description}; each property is a query parameter of its own`,
              style: 'form',
              explode: true,
              schema: converter.json(query.schema),
            },
          ]
        : []),
    ...fromObject(spec.headers, 'header'),
  ];
}

/** Every error a token-checked operation may answer with, and every operation's unexpected failure. */
const TOKEN_ERRORS: ErrorCode[] = ['UNAUTHORIZED', 'RATE_LIMITED'];

function pathOperation(spec: ApiOperationSpec, converter: SchemaConverter): JsonObject {
  const auth = spec.auth ?? 'token';
  const responses: Record<string, JsonObject> = {};
  for (const [status, response] of Object.entries(spec.responses)) {
    const headers = {
      ...response.headers,
      ...(auth === 'token' && status.startsWith('2') ? RATE_LIMIT_HEADERS : {}),
    };
    responses[status] = {
      description: response.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(response.content ? { content: content(response.content, converter) } : {}),
      ...(response.links ? { links: response.links } : {}),
    };
  }
  const errors = [...(auth === 'public' ? [] : TOKEN_ERRORS), ...(spec.errors ?? []), 'INTERNAL' as const];
  Object.assign(responses, problemResponses(auth === 'public' && !spec.errors ? [] : errors, converter));
  const params = parameters(spec, converter);
  return {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags: spec.tags,
    ...(auth === 'public' ? { security: [] } : auth === 'token-or-link' ? { security: [{ bearer: [] }, {}] } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: spec.body.required,
            ...(spec.body.description ? { description: spec.body.description } : {}),
            content: content(spec.body.content, converter),
          },
        }
      : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the producer's HTTP API, assembled from the operations the routers declare; request
 * and response bodies and parameters are converted from the zod schemas the routes validate and type them with.
 */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const operations = apiOperations().map((op) => ({ op, spec: op.spec(options) }));
  const converter = new SchemaConverter();
  converter.use(ProblemDetails, 'output');
  for (const { spec } of operations) {
    converter.use(spec.path, 'input');
    if (spec.query) converter.use(spec.query instanceof z.ZodObject ? spec.query : spec.query.schema, 'input');
    converter.use(spec.headers, 'input');
    for (const media of Object.values(spec.body?.content ?? {})) converter.use(media.schema, 'input');
    for (const response of Object.values(spec.responses)) {
      for (const media of Object.values(response.content ?? {})) converter.use(media.schema, 'output');
    }
  }
  converter.convert();

  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const { op, spec } of operations) {
    paths[op.path] = { ...paths[op.path], [op.method]: pathOperation(spec, converter) };
  }

  return {
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
      {
        name: 'schedules',
        description:
          'cron or interval schedules that create a job at each fire time, with catch-up and overlap policies',
      },
      {
        name: 'pauses',
        description:
          'pause and resume the tenant’s work, as a whole or one job type: paused jobs stay pending, running ones finish',
      },
      {
        name: 'dead letters',
        description:
          'jobs that failed for good, redriven or discarded in bulk by a job of their own, with progress and outcome',
      },
      { name: 'imports', description: 'bulk data and book imports' },
      { name: 'exports', description: 'bulk data and book exports, and their files' },
      { name: 'callbacks', description: 'verifying the requests jobline sends to `callbackUrl`' },
      { name: 'operations', description: 'health, readiness and this document; no token needed' },
    ],
    paths,
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
      schemas: Object.fromEntries(Object.entries(converter.components).sort(([a], [b]) => (a < b ? -1 : 1))),
    },
  };
}
