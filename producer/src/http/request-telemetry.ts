import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { Counter, DURATION_BUCKETS, Histogram, type Logger, type Registry } from '@jobline/libs';

/** The producer's own series; the registry also holds the process metrics. */
export interface ProducerMetrics {
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobsCreated: Counter<'type'>;
}

export function createProducerMetrics(registry: Registry): ProducerMetrics {
  return {
    httpDuration: new Histogram({
      name: 'jobline_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status, from arrival to the last byte of the answer',
      labelNames: ['method', 'route', 'status'],
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    jobsCreated: new Counter({
      name: 'jobline_jobs_created_total',
      help: 'Jobs whose JobRequested event Kafka acknowledged, by type (idempotent replays not counted)',
      labelNames: ['type'],
      registers: [registry],
    }),
  };
}

/** Printable ASCII, at most 128 characters: anything else from a client is replaced, never logged or echoed. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

export function requestIdOf(header: string | undefined): string {
  return header !== undefined && REQUEST_ID.test(header) ? header : randomUUID();
}

/** The request's id, set by `requestTelemetry` before any other middleware runs. */
export function requestId(res: Response): string {
  return (res.locals.requestId as string | undefined) ?? '';
}

/**
 * Gives every request an id (the client's `X-Request-Id` when acceptable, else a new UUID), echoed in the response,
 * and on finish logs the request (see `accessLogLevel`) and observes its duration. The route label is the matched template (`/v1/jobs/:id`),
 * never the raw path, so that job ids do not become series; unmatched paths share `unmatched`. Only method, route,
 * status, duration and ids are logged: no headers, so no credentials.
 */
export function requestTelemetry(options: { logger: Logger; metrics?: ProducerMetrics }): RequestHandler {
  return (req, res, next) => {
    const id = requestIdOf(req.get('x-request-id'));
    res.locals.requestId = id;
    res.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = routeTemplate(req, res);
      const status = res.statusCode;
      options.metrics?.httpDuration.observe({ method: req.method, route, status: String(status) }, seconds);
      options.logger.log(accessLogLevel(status), 'http request', {
        requestId: id,
        method: req.method,
        route,
        status,
        ms: Math.round(seconds * 1000),
        ...(res.locals.tenantId ? { tenantId: res.locals.tenantId as string } : {}),
      });
    });
    next();
  };
}

/**
 * Answered requests are counted by the duration histogram; the log adds the ones worth reading: server errors at
 * `warn`, client errors at `info`, and the rest at `debug` (a line for every accepted job would cost more CPU than
 * accepting it does).
 */
export function accessLogLevel(status: number): 'warn' | 'info' | 'debug' {
  if (status >= 500) return 'warn';
  return status >= 400 ? 'info' : 'debug';
}

/**
 * Notes where a router is mounted. By the time a request finishes, express may have left the router (an error goes
 * out of it to the problem handler) and restored `baseUrl`, but `req.route` still names the matched route.
 */
export const markMount: RequestHandler = (req, res, next) => {
  res.locals.mount = req.baseUrl;
  next();
};

/** The matched route's template, or `unmatched` when no route was reached (404s, and requests refused before it). */
function routeTemplate(req: Request, res: Response): string {
  const route = req.route as { path?: unknown } | undefined;
  if (typeof route?.path !== 'string') return 'unmatched';
  const mount = typeof res.locals.mount === 'string' ? res.locals.mount : '';
  const joined = `${mount}${route.path === '/' ? '' : route.path}`;
  return joined === '' ? '/' : joined;
}
