import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import express, { Router } from 'express';
import helmet from 'helmet';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi';

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

/** `GET /openapi.json` and Swagger UI at `/docs`, both without authentication. */
export function apiDocs(options: OpenApiOptions): Router {
  const document = buildOpenApiDocument(options);
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.get(['/docs', '/docs/'], swaggerUiPolicy, (_req, res) => {
    res.type('html').send(SWAGGER_UI_PAGE);
  });
  router.use('/docs', express.static(SWAGGER_UI_DIR, { index: false }));
  return router;
}
