import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { createLogger } from '@jobline/libs';
import { DEFAULT_DASHBOARD_DIR, dashboard } from './dashboard-route';
import { problemDetails, routeNotFound } from './problem-details';

describe('the dashboard at /ui', () => {
  let dir: string;
  let server: Server;
  let base: string;

  const serve = async (root: string) => {
    const app = express();
    app.use(dashboard(root));
    app.use(routeNotFound);
    app.use(problemDetails({ logger: createLogger({ service: 'test', level: 'error' }), retryAfterSeconds: 1 }));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'jobline-dashboard-'));
  });
  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers its own paths with the page, revalidated, and its assets as long-lived files', async () => {
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>jobline</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'export {};');
    await serve(dir);

    for (const path of ['/ui', '/ui/', '/ui/jobs/0199', '/ui/dead-letters']) {
      const page = await fetch(`${base}${path}`);
      expect([path, page.status]).toEqual([path, 200]);
      expect(await page.text()).toContain('<title>jobline</title>');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      // Served over plain HTTP on a LAN address too: its requests are not upgraded to HTTPS.
      const policy = page.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('upgrade-insecure-requests');
    }
    const asset = await fetch(`${base}/ui/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    await asset.text();

    const missing = await fetch(`${base}/ui/assets/gone.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await missing.text();
  });

  it('says how to build it when it is not built', async () => {
    await serve(dir);
    const res = await fetch(`${base}/ui`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({
      code: 'ROUTE_NOT_FOUND',
      detail: expect.stringContaining('npm run build'),
    });
  });
});

describe('the Docker image', () => {
  const root = join(__dirname, '..', '..', '..');
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');

  it('builds the dashboard from what its build reads, and ships its files where the producer looks', () => {
    for (const line of [
      'COPY dashboard/package.json dashboard/',
      'COPY dashboard dashboard',
      'COPY scripts/build-dashboard.mjs scripts/',
      'COPY docs/openapi.json docs/',
      'COPY --from=build --chown=node:node /app/dashboard/dist dashboard/dist',
    ]) {
      expect(dockerfile).toContain(line);
    }
    expect(DEFAULT_DASHBOARD_DIR).toBe(join(root, 'dashboard', 'dist'));
  });
});
