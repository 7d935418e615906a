import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router, type RequestHandler } from 'express';
import helmet from 'helmet';
import { JoblineError } from '@jobline/libs';
import { operation, route } from './api-operation';

/** Where `npm run build` puts the dashboard, seen from the producer's build output (`producer/dist/http`). */
export const DEFAULT_DASHBOARD_DIR = join(__dirname, '..', '..', '..', 'dashboard', 'dist');
export const DASHBOARD_PATH = '/ui';

export const getDashboard = operation('get', DASHBOARD_PATH, {
  operationId: 'getDashboard',
  summary: 'The dashboard',
  description:
    'A single-page app over this API: sign in with an API token (kept in the tab’s session storage) to watch and steer ' +
    'the token’s jobs. Its own paths under /ui/ answer with the same page; its files are under /ui/assets/.',
  tags: ['operations'],
  auth: 'public',
  responses: { '200': { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
  errors: ['ROUTE_NOT_FOUND'],
});

// The page is served over plain HTTP on a LAN address as often as over HTTPS: no upgrade of its requests.
const dashboardPolicy = helmet.contentSecurityPolicy({
  useDefaults: true,
  directives: { 'upgrade-insecure-requests': null, 'connect-src': ["'self'"] },
});

/**
 * `GET /ui`, its client-side paths and its built files, without a token: the page asks for one and sends it with
 * every API request it makes. Hashed asset names let browsers keep the files; the page itself is always revalidated.
 */
export function dashboard(dir: string = DEFAULT_DASHBOARD_DIR): Router {
  const index = join(dir, 'index.html');
  const page: RequestHandler = (_req, res, next) => {
    if (!existsSync(index)) {
      next(new JoblineError('ROUTE_NOT_FOUND', 'the dashboard is not built here; `npm run build` builds it'));
      return;
    }
    res.set('Cache-Control', 'no-cache').sendFile(index);
  };
  const router = Router();
  router.use(DASHBOARD_PATH, dashboardPolicy);
  route(router, '', getDashboard, page);
  router.use(
    `${DASHBOARD_PATH}/assets`,
    express.static(join(dir, 'assets'), { index: false, immutable: true, maxAge: '1y' }),
    (req, _res, next) => next(new JoblineError('ROUTE_NOT_FOUND', `no dashboard file ${req.originalUrl}`)),
  );
  router.use(DASHBOARD_PATH, (req, res, next) =>
    req.method === 'GET' || req.method === 'HEAD' ? page(req, res, next) : next(),
  );
  return router;
}
