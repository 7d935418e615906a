import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import type { Logger } from '@jobline/libs';
import { apiDocs } from './api-docs';
import { authenticate } from './auth';
import type { CheckResult, HealthReport, ReadinessReport } from './health-reports';
import { jobsRouter, type JobsRouterDeps } from './jobs-router';
import { problemDetails, routeNotFound } from './problem-details';

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export interface AppDeps extends JobsRouterDeps {
  tokens: ReadonlyMap<string, string>;
  readiness: ReadinessChecks;
  maxBodyBytes: number;
  retryAfterSeconds: number;
  logger: Logger;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);

  app.use((req, res, next) => {
    const requestId = req.get('x-request-id') || randomUUID();
    res.set('X-Request-Id', requestId);
    next();
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' } satisfies HealthReport);
  });
  app.get('/ready', async (_req, res) => {
    const checks = await runChecks(deps.readiness);
    const ready = Object.values(checks).every((c) => c.status === 'up');
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks } satisfies ReadinessReport);
  });
  app.use(apiDocs({ batchMaxJobs: deps.batchMaxJobs }));

  app.use(express.json({ limit: deps.maxBodyBytes }));
  app.use('/v1', authenticate(deps.tokens));
  app.use('/v1/jobs', jobsRouter(deps));
  app.use(routeNotFound);
  app.use(problemDetails({ logger: deps.logger, retryAfterSeconds: deps.retryAfterSeconds }));
  return app;
}

async function runChecks(checks: ReadinessChecks): Promise<Record<string, CheckResult>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = Date.now();
      try {
        await withTimeout(check(), 2000);
        return [name, { status: 'up', ms: Date.now() - started } satisfies CheckResult];
      } catch (err) {
        return [name, { status: 'down', error: (err as Error).message } satisfies CheckResult];
      }
    }),
  );
  return Object.fromEntries(entries);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
