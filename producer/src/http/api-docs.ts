import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { operation, route, type ApiOptions } from './api-operation';
import { buildOpenApiDocument } from './openapi';

const SWAGGER_UI_DIR = dirname(require.resolve('swagger-ui-dist/package.json'));

const SWAGGER_UI_INIT = `
      window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', persistAuthorization: true });
    `;

const SWAGGER_UI_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>jobline API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script>${SWAGGER_UI_INIT}</script>
  </body>
</html>
`;

// The page's one inline script, allowed by its hash: helmet's Content-Security-Policy forbids inline scripts.
const swaggerUiPolicy = helmet.contentSecurityPolicy({
  directives: {
    scriptSrc: ["'self'", `'sha256-${createHash('sha256').update(SWAGGER_UI_INIT).digest('base64')}'`],
  },
});

export const getOpenApiDocument = operation('get', '/openapi.json', {
  operationId: 'getOpenApiDocument',
  summary: 'This document',
  tags: ['operations'],
  auth: 'public',
  responses: {
    '200': { description: 'the OpenAPI document', content: { 'application/json': { schema: { type: 'object' } } } },
  },
});

export const getSwaggerUi = operation('get', '/docs', {
  operationId: 'getSwaggerUi',
  summary: 'Swagger UI for this document',
  tags: ['operations'],
  auth: 'public',
  responses: { '200': { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
});

/** `GET /openapi.json` and Swagger UI at `/docs` (and `/docs/`), both without authentication. */
export function apiDocs(options: ApiOptions): Router {
  const document = buildOpenApiDocument(options);
  const router = Router();
  route(router, '', getOpenApiDocument, (_req, res) => {
    res.json(document);
  });
  route(router, '', getSwaggerUi, swaggerUiPolicy, (_req, res) => {
    res.type('html').send(SWAGGER_UI_PAGE);
  });
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: false }));
  return router;
}
