import { readFileSync, readdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Express } from 'express';
import { createLogger } from '@jobline/libs';
import { createApp, type AppDeps } from '../producer/src/app';
import { EVENT_SCHEMAS_DIR, generatedDocs } from '../producer/src/http/generated-docs';
import { buildOpenApiDocument } from '../producer/src/http/openapi';

const root = join(__dirname, '..');
const REGENERATE = 'the committed contract documents are stale: run `npm run openapi` and commit docs/';

describe('committed contract documents', () => {
  const files = generatedDocs();

  it.each([...files.keys()])('%s equals what the zod schemas generate', (path) => {
    let committed: string;
    try {
      committed = readFileSync(join(root, path), 'utf8');
    } catch {
      throw new Error(`${path} is missing; ${REGENERATE}`);
    }
    if (committed !== files.get(path)) throw new Error(`${path} differs from the generated one; ${REGENERATE}`);
  });

  it('has no schema of a message that no longer exists', () => {
    const stale = readdirSync(join(root, EVENT_SCHEMAS_DIR)).filter(
      (name) => !files.has(`${EVENT_SCHEMAS_DIR}/${name}`),
    );
    if (stale.length > 0) throw new Error(`stale ${stale.join(', ')}; ${REGENERATE}`);
  });

  it('has a schema of every event type, the dead letter, the timer, the schedule and the pause events', () => {
    const names = [...files.keys()].filter((p) => p.startsWith(EVENT_SCHEMAS_DIR)).map((p) => p.split('/').pop());
    expect(names).toEqual(expect.arrayContaining(['JobRequested.schema.json', 'JobRetryRequested.schema.json']));
    expect(names).toEqual(expect.arrayContaining(['DeadLetter.schema.json', 'TimerMessage.schema.json']));
    expect(names).toEqual(expect.arrayContaining(['ScheduleCreated.schema.json', 'ScheduleDeleted.schema.json']));
    expect(names).toEqual(expect.arrayContaining(['WorkPaused.schema.json', 'WorkResumed.schema.json']));
  });
});

interface StackLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: StackLayer[] };
  rawPath?: string | string[];
}

/** Every method and path the app routes, found by walking express's router stacks (mounted routers included). */
function registeredRoutes(app: Express): string[] {
  const routes: string[] = [];
  const walk = (stack: StackLayer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = [layer.route.path].flat();
        for (const path of paths) {
          for (const method of Object.keys(layer.route.methods)) {
            const full = `${prefix}${path}`.replace(/\/$/, '') || '/';
            routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      } else if (layer.handle.stack) {
        const mount = [layer.rawPath ?? ''].flat()[0] ?? '';
        walk(layer.handle.stack, `${prefix}${mount === '/' ? '' : mount}`);
      }
    }
  };
  walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack, '');
  return [...new Set(routes)];
}

describe('OpenAPI document', () => {
  const unused = () => {
    throw new Error('not called');
  };
  const app = createApp({
    tokens: new Map([['t', 'tenant']]),
    readiness: {},
    maxBodyBytes: 1024,
    retryAfterSeconds: 1,
    batchMaxJobs: 10,
    logger: createLogger({ service: 'test', level: 'error' }),
    now: () => new Date(),
    publisher: unused,
    cache: unused,
    reader: unused,
    idempotency: unused,
    announceCancellation: unused,
    streams: { job: unused, tenant: unused, closeAll: unused },
    callbackSigningKey: 'a-key-for-the-route-list',
    data: { blobs: unused, collections: unused, links: unused, maxUploadBytes: 1, findAnyTenant: unused },
    schedules: { publisher: unused, cache: unused, schedules: unused },
    pauses: { publisher: unused, cache: unused, pauses: unused },
  } as unknown as AppDeps);
  const document = buildOpenApiDocument({ batchMaxJobs: 10 });

  it('describes every route the app registers', () => {
    const routes = registeredRoutes(app);
    expect(routes).toEqual(expect.arrayContaining(['post /v1/jobs', 'get /v1/jobs/{id}', 'get /openapi.json']));
    const missing = routes.filter((route) => {
      const [method, path] = route.split(' ') as [string, string];
      return document.paths[path]?.[method] === undefined;
    });
    expect(missing).toEqual([]);
  });

  it('describes no route the app does not have', () => {
    const routes = new Set(registeredRoutes(app));
    const documented = Object.entries(document.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method} ${path}`),
    );
    expect(documented.filter((route) => !routes.has(route))).toEqual([]);
  });

  it('links every operation that creates jobs to operations the document has', () => {
    const operationIds = new Set(
      Object.values(document.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId)),
    );
    const links = Object.values(document.paths).flatMap((ops) =>
      Object.values(ops).flatMap((op) =>
        Object.values(op.responses as Record<string, { links?: Record<string, { operationId: string }> }>).flatMap(
          (response) => Object.values(response.links ?? {}),
        ),
      ),
    );
    expect(links.map((link) => link.operationId).filter((id) => !operationIds.has(id))).toEqual([]);
    for (const [path, method] of [
      ['/v1/jobs', 'post'],
      ['/v1/timers', 'post'],
      ['/v1/imports', 'post'],
      ['/v1/exports', 'post'],
    ] as const) {
      const created = Object.values(document.paths[path]![method]!.responses as Record<string, { links?: object }>)[0]!;
      expect(Object.values(created.links ?? {})).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ operationId: 'getJob', parameters: { id: '$response.body#/id' } }),
        ]),
      );
    }
  });

  it('documents the batch limit the producer is configured with', () => {
    const schemas = (document.components as { schemas: Record<string, { properties: Record<string, unknown> }> })
      .schemas;
    expect(schemas.CreateJobBatchRequest!.properties.jobs).toMatchObject({ maxItems: 10 });
  });

  describe('served', () => {
    let server: ReturnType<Express['listen']>;
    let base: string;
    beforeAll(async () => {
      server = app.listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it('serves the document at /openapi.json without a token', async () => {
      const res = await fetch(`${base}/openapi.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual(JSON.parse(JSON.stringify(document)));
    });

    it('answers a method a documented path does not serve with 405 and Allow, and OPTIONS with Allow', async () => {
      const trace = await fetch(`${base}/health`, { method: 'PUT' });
      expect(trace.status).toBe(405);
      expect(trace.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      expect(trace.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await trace.json()).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' });

      // `batch` would otherwise be taken for a job id by GET /v1/jobs/{id}.
      const batch = await fetch(`${base}/v1/jobs/batch`, { headers: { authorization: 'Bearer t' } });
      expect(batch.status).toBe(405);
      expect(batch.headers.get('allow')).toBe('OPTIONS, POST');

      const job = await fetch(`${base}/v1/jobs/01a242ed-0d2a-77e0-990b-c100e8085f55`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer t' },
      });
      expect(job.status).toBe(405);
      expect(job.headers.get('allow')).toBe('GET, HEAD, OPTIONS');

      const options = await fetch(`${base}/v1/jobs/batch`, { method: 'OPTIONS' });
      expect(options.status).toBe(204);
      expect(options.headers.get('allow')).toBe('OPTIONS, POST');
    });

    it('serves Swagger UI at /docs, with its assets', async () => {
      const page = await fetch(`${base}/docs`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await page.text();
      expect(html).toContain("url: '/openapi.json'");
      const script = await fetch(`${base}/docs/swagger-ui-bundle.js`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      await script.arrayBuffer();
    });
  });
});
