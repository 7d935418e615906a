import express, { type Express } from 'express';
import { runReadinessChecks, type Logger } from '@jobline/libs';
import { apiDocs } from './api-docs';
import { authenticate } from './auth';
import type { HealthReport, ReadinessReport } from './health-reports';
import { jobsRouter, type JobsRouterDeps } from './jobs-router';
import { problemDetails, routeNotFound } from './problem-details';
import { markMount, requestTelemetry } from './request-telemetry';

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

  app.use(requestTelemetry({ logger: deps.logger, metrics: deps.metrics }));

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' } satisfies HealthReport);
  });
  app.get('/ready', async (_req, res) => {
    const report = await runReadinessChecks(deps.readiness);
    res.status(report.status === 'ready' ? 200 : 503).json(report satisfies ReadinessReport);
  });
  app.use(apiDocs({ batchMaxJobs: deps.batchMaxJobs }));

  app.use(express.json({ limit: deps.maxBodyBytes }));
  app.use('/v1', authenticate(deps.tokens));
  app.use('/v1/jobs', markMount, jobsRouter(deps));
  app.use(routeNotFound);
  app.use(problemDetails({ logger: deps.logger, retryAfterSeconds: deps.retryAfterSeconds }));
  return app;
}
