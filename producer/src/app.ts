import cors from 'cors';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { runReadinessChecks, type BlobStore, type DataCollections, type JobView, type Logger } from '@jobline/libs';
import { apiDocs } from './http/api-docs';
import { documentedMethods, route } from './http/api-operation';
import { authenticate, type TokenLookup } from './auth/auth';
import { callbackSecretRoute, getCallbackSecret } from './jobs/callback-secret-route';
import { dashboard } from './http/dashboard-route';
import { getHealth, getReadiness, type HealthReport, type ReadinessReport } from './http/health-reports';
import { streamJob, streamJobs, type JobStreams } from './jobs/job-streams';
import { getJobStats, jobStatsRoute, type JobStatsSource } from './jobs/job-stats';
import { jobAcceptor } from './jobs/accept-jobs';
import { JOBS_PATH, jobRequestLimits, jobsRouter, type JobsRouterDeps } from './jobs/jobs-router';
import { EXPORTS_PATH, downloadExport, exportDownload, exportsRouter, type DownloadLinks } from './data/exports-router';
import { IMPORTS_PATH, importsRouter } from './data/imports-router';
import { DEAD_LETTERS_PATH, deadLettersRouter } from './dead-letters/dead-letters-router';
import { apiOperations } from './http/openapi';
import { problemDetails, routeNotFound } from './http/problem-details';
import { markMount, requestTelemetry } from './http/request-telemetry';
import { rateLimit, type RateLimitOptions } from './auth/rate-limit';
import { SCHEDULES_PATH, schedulesRouter, type SchedulesRouterDeps } from './schedules/schedules-router';
import { PAUSES_PATH, pausesRouter, type PausesRouterDeps } from './pauses/pauses-router';
import { TIMERS_PATH, timersRouter } from './timers/timers-router';

const CORS_EXPOSED = [
  'Location',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Idempotent-Replayed',
];

export type ReadinessChecks = Record<string, () => Promise<unknown>>;

export interface AppDeps extends JobsRouterDeps {
  tokens: ReadonlyMap<string, string>;
  /** Tokens beyond API_TOKENS (the `api_tokens` collection). */
  tokenLookup?: TokenLookup;
  /** Per-token limits counted in Redis; none: unlimited. */
  rateLimit?: RateLimitOptions;
  /** Origins allowed by CORS, or `*`; empty: no CORS headers. */
  corsOrigins?: readonly string[];
  readiness: ReadinessChecks;
  /** Server-Sent Events of job changes; none: the stream routes answer 404. */
  streams?: JobStreams;
  /** What the import and export endpoints need; none: they are not served. */
  data?: {
    blobs: BlobStore;
    collections: DataCollections;
    links: DownloadLinks;
    /** Largest file one import may upload. */
    maxUploadBytes: number;
    /** A job's view by id, whatever its tenant: for signed download links. */
    findAnyTenant(jobId: string): Promise<JobView | null>;
  };
  /** What `/v1/schedules` needs; none: it is not served. */
  schedules?: Pick<SchedulesRouterDeps, 'publisher' | 'cache' | 'schedules'>;
  /** What `/v1/pauses` needs; none: it is not served. */
  pauses?: Pick<PausesRouterDeps, 'publisher' | 'cache' | 'pauses'>;
  /** The figures of `GET /v1/stats`; none: it answers 503. */
  stats?: JobStatsSource;
  /** The built dashboard served at /ui. @defaultValue dashboard/dist beside the producer */
  dashboardDir?: string;
  /** The deployment's key from which tenants' callback secrets derive; none: no `/v1/callbacks/secret`. */
  callbackSigningKey?: string;
  maxBodyBytes: number;
  retryAfterSeconds: number;
  logger: Logger;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestTelemetry({ logger: deps.logger, metrics: deps.metrics }));

  app.use(helmet());
  if (deps.corsOrigins?.length) {
    app.use(
      cors({ origin: deps.corsOrigins.includes('*') ? '*' : [...deps.corsOrigins], exposedHeaders: CORS_EXPOSED }),
    );
  }

  route(app, '', getHealth, (_req, res) => {
    res.json({ status: 'ok' } satisfies HealthReport);
  });
  route(app, '', getReadiness, async (_req, res) => {
    const report = await runReadinessChecks(deps.readiness);
    res.status(report.status === 'ready' ? 200 : 503).json(report satisfies ReadinessReport);
  });
  app.use(apiDocs({ batchMaxJobs: deps.batchMaxJobs }));
  app.use(dashboard(deps.dashboardDir));
  const methods = documentedMethods(apiOperations());
  app.use(methods.early);

  app.use(express.json({ limit: deps.maxBodyBytes }));
  const auth = authenticate(deps.tokens, deps.tokenLookup);
  // Before authentication: a signed link opens an export's file without a token.
  if (deps.data) route(app, '', downloadExport, exportDownload({ ...deps.data, reader: deps.reader }, auth));
  app.use('/v1', auth);
  if (deps.rateLimit) app.use('/v1', rateLimit(deps.rateLimit));
  if (deps.callbackSigningKey) route(app, '', getCallbackSecret, callbackSecretRoute(deps.callbackSigningKey));
  if (deps.streams) {
    route(app, '', streamJobs, deps.streams.tenant);
    route(app, '', streamJob, deps.streams.job);
  }
  route(app, '', getJobStats, jobStatsRoute({ stats: deps.stats, now: deps.now }));
  const acceptJobs = jobAcceptor(deps);
  app.use(JOBS_PATH, markMount, jobsRouter(deps, acceptJobs));
  app.use(TIMERS_PATH, markMount, timersRouter(deps, acceptJobs));
  app.use(DEAD_LETTERS_PATH, markMount, deadLettersRouter(deps, acceptJobs));
  if (deps.schedules) {
    const { logger, now, reader } = deps;
    app.use(
      SCHEDULES_PATH,
      markMount,
      schedulesRouter({
        ...deps.schedules,
        reader,
        logger,
        now,
        idempotency: deps.idempotency,
        limits: jobRequestLimits(deps),
      }),
    );
  }
  if (deps.pauses) {
    app.use(PAUSES_PATH, markMount, pausesRouter({ ...deps.pauses, logger: deps.logger, now: deps.now }));
  }
  if (deps.data) {
    const limits = jobRequestLimits(deps);
    const data = {
      ...deps.data,
      data: deps.data.collections,
      acceptJobs,
      reader: deps.reader,
      logger: deps.logger,
      limits,
    };
    app.use(IMPORTS_PATH, markMount, importsRouter(data));
    app.use(EXPORTS_PATH, markMount, exportsRouter(data));
  }
  app.use(methods.notAllowed);
  app.use(routeNotFound);
  app.use(problemDetails({ logger: deps.logger, retryAfterSeconds: deps.retryAfterSeconds }));
  return app;
}
