import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger';
import { runReadinessChecks, type ReadinessChecks } from './readiness';

/** What `/metrics` serves: a prom-client `Registry`, or metrics gathered elsewhere (a cluster's workers). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface OpsServerOptions {
  /** 0 disables the server. */
  port: number;
  host?: string;
  registry: MetricsSource;
  readiness: ReadinessChecks;
  logger: Logger;
}

export interface OpsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * `GET /health`, `GET /ready` and `GET /metrics` on a port of their own, for services without an HTTP API and for
 * the producer's metrics, which stay off the public, authenticated port. node:http only: nothing here needs routing.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer | null> {
  const { registry, readiness, logger } = options;
  if (options.port === 0) return null;
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    const answer = async () => {
      switch (path) {
        case '/health':
          return send(200, 'application/json', JSON.stringify({ status: 'ok' }));
        case '/ready': {
          const report = await runReadinessChecks(readiness);
          return send(report.status === 'ready' ? 200 : 503, 'application/json', JSON.stringify(report));
        }
        case '/metrics':
          return send(200, registry.contentType, await registry.metrics());
        default:
          return send(404, 'text/plain', 'not found\n');
      }
    };
    answer().catch((err: unknown) => {
      logger.error('ops endpoint failed', { path, err: err instanceof Error ? err.message : String(err) });
      if (!res.headersSent) send(500, 'text/plain', 'internal error\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
