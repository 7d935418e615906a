import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { JoblineError, type ErrorCode } from '@jobline/libs';

/**
 * How a route describes itself in the OpenAPI document. Each router declares its operations beside its handlers and
 * registers the handlers through them (`route`), so that the method and path served are the ones documented;
 * `openapi.ts` only assembles what the routers declare.
 */

/** What the document depends on beyond the code: the producer's configuration. */
export interface ApiOptions {
  /** Most jobs one batch may create, as the producer is configured. */
  batchMaxJobs: number;
}

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type JsonObject = Record<string, unknown>;

/**
 * A body's or a parameter's schema: zod, converted as the route reads it (requests: defaults optional) or writes it
 * (responses); or JSON Schema as it is, where no zod schema applies (a file, an event stream).
 */
export type ApiSchema = z.ZodType | JsonObject;

export interface ApiMediaType {
  schema?: ApiSchema;
  example?: unknown;
}

/** An OpenAPI link: an operation whose parameters come from this response (`$response.body#/id`). */
export interface ApiLink {
  operationId: string;
  parameters: Record<string, string>;
  description?: string;
}

export interface ApiResponse {
  description: string;
  headers?: Record<string, JsonObject>;
  content?: Record<string, ApiMediaType>;
  links?: Record<string, ApiLink>;
}

export interface ApiOperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  /**
   * `token` (the default): a token is required, and every answer past its check carries the rate-limit headers;
   * `public`: no token; `token-or-link`: a token or a signed link.
   */
  auth?: 'token' | 'public' | 'token-or-link';
  /** Path parameters, one field per `{name}` of the path; each field's description becomes the parameter's. */
  path?: z.ZodObject;
  /** Query parameters, one per field; or several sets of them, exclusive, as one exploded object parameter. */
  query?: z.ZodObject | { name: string; description: string; schema: z.ZodType };
  /** Request headers, one per field. */
  headers?: z.ZodObject;
  body?: { required: boolean; description?: string; content: Record<string, ApiMediaType> };
  responses: Record<string, ApiResponse>;
  /** The error codes this operation answers with, beyond those of every token-checked operation. */
  errors?: ErrorCode[];
}

export interface ApiOperation {
  method: HttpMethod;
  /** The OpenAPI path template, e.g. `/v1/jobs/{id}`. */
  path: string;
  spec(options: ApiOptions): ApiOperationSpec;
}

/** Declares an operation; `spec` may depend on the producer's configuration (a batch's size limit). */
export function operation(
  method: HttpMethod,
  path: string,
  spec: ApiOperationSpec | ((options: ApiOptions) => ApiOperationSpec),
): ApiOperation {
  return { method, path, spec: typeof spec === 'function' ? spec : () => spec };
}

/** Registers the handlers of `op` on a router mounted at `mount` (`''` for the app itself), at the declared path. */
export function route(
  router: Pick<Router, HttpMethod>,
  mount: string,
  op: ApiOperation,
  ...handlers: RequestHandler[]
): void {
  if (!op.path.startsWith(mount)) throw new Error(`${op.path} is not under ${mount}`);
  const local = op.path.slice(mount.length).replace(/\{(\w+)\}/g, ':$1') || '/';
  router[op.method](local, ...handlers);
}

const components = new Map<z.ZodType, string>();

/** Marks a schema as a named component of the document (`#/components/schemas/<name>`); returns it unchanged. */
export function named<T extends z.ZodType>(name: string, schema: T): T {
  components.set(schema, name);
  return schema;
}

/** Every schema `named` has named, with its name. */
export function namedSchemas(): ReadonlyMap<z.ZodType, string> {
  return components;
}

export const json = (schema: ApiSchema): { content: Record<string, ApiMediaType> } => ({
  content: { 'application/json': { schema } },
});

/** The `Location` header of a response that created something. */
export const LOCATION_HEADER = (what: string) => ({
  Location: { description: `the ${what}’s URL`, schema: { type: 'string' } },
});

export const IDEMPOTENT_REPLAYED_HEADER = {
  'Idempotent-Replayed': {
    description: '`true` when an earlier request with the same Idempotency-Key created what this one answers with',
    schema: { type: 'string', enum: ['true'] },
  },
};

/** What every request that creates jobs may be refused with. */
export const CREATION_ERRORS: ErrorCode[] = [
  'VALIDATION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'IDEMPOTENCY_KEY_REUSED',
  'KAFKA_UNAVAILABLE',
  'DEPENDENCY_UNAVAILABLE',
];

/** The `Idempotency-Key` header of the requests that create jobs or schedules. */
export const IdempotencyKeyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .describe(
      'Per tenant, remembered for IDEMPOTENCY_TTL_SECONDS: the same key with the same body answers with what the ' +
        'first request created, its jobs or its schedule (and `Idempotent-Replayed: true`); with another body, or ' +
        'sent to create something else, it is a 409.',
    ),
});

/** Links from a response whose body is a job view to the operations on that job. */
export function jobLinks(operationIds: Record<string, string>): Record<string, ApiLink> {
  return Object.fromEntries(
    Object.entries(operationIds).map(([name, operationId]) => [
      name,
      { operationId, parameters: { id: '$response.body#/id' } },
    ]),
  );
}

/** Matches a request path against an OpenAPI path template. */
function templatePattern(path: string): RegExp {
  const escaped = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`);
}

/**
 * The methods of the documented paths, as HTTP states them: a method a path does not serve is a 405 with `Allow`,
 * OPTIONS a 204 with `Allow`. HEAD comes with GET (express answers it), OPTIONS with every path. `early` goes before
 * the routers and answers OPTIONS, and the paths without parameters (a job id route would take `GET /v1/jobs/batch`
 * for a job); `notAllowed` goes after every route, for the paths with parameters.
 */
export function documentedMethods(operations: readonly ApiOperation[]): {
  early: RequestHandler;
  notAllowed: RequestHandler;
} {
  const byPath = new Map<string, Set<string>>();
  for (const op of operations) {
    const methods = byPath.get(op.path) ?? new Set<string>(['OPTIONS']);
    methods.add(op.method.toUpperCase());
    if (op.method === 'get') methods.add('HEAD');
    byPath.set(op.path, methods);
  }
  const paths = [...byPath].map(([path, methods]) => ({
    pattern: templatePattern(path),
    literal: !path.includes('{'),
    methods,
    allow: [...methods].sort().join(', '),
  }));
  const find = (path: string) => paths.find(({ pattern }) => pattern.test(path));
  const notAllowed: RequestHandler = (req, res, next) => {
    const match = find(req.path);
    if (!match) return next();
    res.set('Allow', match.allow);
    next(new JoblineError('METHOD_NOT_ALLOWED', `${req.method} is not served at ${req.path}; Allow: ${match.allow}`));
  };
  return {
    early: (req, res, next) => {
      const match = find(req.path);
      if (!match) return next();
      if (req.method === 'OPTIONS') return void res.set('Allow', match.allow).status(204).end();
      if (match.literal && !match.methods.has(req.method)) return notAllowed(req, res, next);
      next();
    },
    notAllowed,
  };
}
