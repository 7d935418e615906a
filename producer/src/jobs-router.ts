import { setTimeout as sleep } from 'node:timers/promises';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import {
  JoblineError,
  decide,
  evolve,
  foldEvents,
  toJobView,
  type EventPublisher,
  type JobCache,
  type JobCommand,
  type JobView,
  type Logger,
  type OutboundAllowList,
} from '@jobline/libs';
import { tenantOf } from './auth';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  jobRequestedEvent,
  parseCreateJob,
  parseCreateJobBatch,
  parseIdempotencyKey,
  type CreateJobRequest,
} from './create-job-request';
import { hashRequest, type IdempotencyStore } from './idempotency';
import type { JobReader } from './job-reader';
import type { ProducerMetrics } from './request-telemetry';
import { encodeCursor, parseListJobsQuery } from './list-jobs-query';

export interface JobsRouterDeps {
  publisher: EventPublisher;
  cache: JobCache;
  reader: JobReader;
  logger: Logger;
  now: () => Date;
  /** Tells the runners, now, that a running job's cancellation was requested (best effort; the log is the record). */
  announceCancellation: (jobId: string) => Promise<void>;
  idempotency: IdempotencyStore;
  /** How long a duplicate request waits for the first one with its key to be accepted. */
  replayWaitMs: number;
  /** Most jobs one batch request may create. */
  batchMaxJobs: number;
  /** Largest job payload, serialized as JSON, in bytes. @defaultValue 262144 */
  maxPayloadBytes?: number;
  /** What a `callbackUrl` may point at beyond public addresses (OUTBOUND_ALLOWLIST). @defaultValue nothing */
  outboundAllowList?: OutboundAllowList;
  metrics?: ProducerMetrics;
}

const JobId = z.uuid();

function jsonBody(req: Request): unknown {
  if (!req.is('application/json')) {
    throw new JoblineError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json', {
      details: [{ field: 'Content-Type', code: 'invalid_value', message: 'application/json' }],
    });
  }
  return req.body;
}

export function jobsRouter(deps: JobsRouterDeps): Router {
  const router = Router();
  const limits = {
    maxPayloadBytes: deps.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    outboundAllowList: deps.outboundAllowList,
  };

  /**
   * Accepts jobs: claims the request's Idempotency-Key for all of them, publishes their JobRequested events in one
   * call and caches their views. Returns the views in request order; a repeated request gets those of the jobs its
   * first use created.
   */
  async function acceptJobs(req: Request, res: Response, requests: readonly CreateJobRequest[]): Promise<JobView[]> {
    const tenantId = tenantOf(req);
    const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
    const now = deps.now();
    const events = requests.map((request) => jobRequestedEvent(request, tenantId, now, idempotencyKey));

    let release = async () => {};
    if (idempotencyKey !== null) {
      const jobIds = events.map((e) => e.jobId);
      const claim = await deps.idempotency.claim(tenantId, idempotencyKey, hashRequest(req.body), jobIds);
      if (claim.kind === 'replay') {
        res.set('Idempotent-Replayed', 'true');
        return replayedViews(tenantId, claim.jobIds);
      }
      release = claim.release;
    }

    // 202 promises the jobs are in the log: answer only after Kafka acknowledged them (acks=-1). If Kafka fails,
    // nothing is cached either, so the client's retry starts from a clean slate.
    try {
      await deps.publisher.publish(events);
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }

    for (const request of requests) deps.metrics?.jobsCreated.inc({ type: request.type });
    const views = events.map((event) => toJobView(evolve(null, event)!));
    await Promise.all(
      views.map((view) =>
        deps.cache.putIfAbsent({ tenantId, view }).catch((err: unknown) =>
          deps.logger.warn('job cache write failed; reads will use MongoDB', {
            jobId: view.id,
            err: (err as Error).message,
          }),
        ),
      ),
    );
    deps.logger.debug('jobs accepted', { tenantId, jobIds: views.map((v) => v.id) });
    return views;
  }

  /** The jobs a repeated request created; the first request may still be publishing them. */
  async function replayedViews(tenantId: string, jobIds: readonly string[]): Promise<JobView[]> {
    const deadline = Date.now() + deps.replayWaitMs;
    const views: (JobView | null)[] = jobIds.map(() => null);
    for (;;) {
      await Promise.all(jobIds.map(async (id, i) => (views[i] ??= await deps.reader.find(tenantId, id))));
      if (views.every((view) => view !== null)) return views;
      if (Date.now() >= deadline) {
        throw new JoblineError(
          'IDEMPOTENT_REQUEST_IN_PROGRESS',
          'a request with this Idempotency-Key is still being accepted; retry shortly',
        );
      }
      await sleep(20);
    }
  }

  router.post('/', async (req, res) => {
    const [view] = await acceptJobs(req, res, [parseCreateJob(jsonBody(req), limits)]);
    res.status(202).location(`${req.baseUrl}/${view!.id}`).json(view);
  });

  // Before the `/:id` routes, so that `batch` is never taken for a job id.
  router.post('/batch', async (req, res) => {
    const views = await acceptJobs(req, res, parseCreateJobBatch(jsonBody(req), deps.batchMaxJobs, limits));
    res.status(202).json({ jobs: views });
  });

  router.get('/', async (req, res) => {
    const query = parseListJobsQuery(req.query);
    const page = await deps.reader.list(tenantOf(req), query);
    res.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next, query) : null });
  });

  router.get('/:id', async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    // An id that cannot exist and another tenant's job look the same from outside: 404.
    const view = id.success ? await deps.reader.find(tenantId, id.data) : null;
    if (!view) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    res.json(view);
  });

  router.get('/:id/events', async (req, res) => {
    const id = JobId.safeParse(req.params.id);
    const events = id.success ? await deps.reader.history(tenantOf(req), id.data) : null;
    if (!events) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    res.json({ items: events });
  });

  /** Decides a command against the job's state, publishes its events, and answers 202 with the resulting view. */
  const command =
    (toCommand: (req: Request) => JobCommand): RequestHandler =>
    async (req, res) => {
      const tenantId = tenantOf(req);
      const id = JobId.safeParse(req.params.id);
      const job = id.success ? await deps.reader.state(tenantId, id.data) : null;
      if (!job) throw new JoblineError('JOB_NOT_FOUND', `no job ${String(req.params.id)}`);
      const events = decide(toCommand(req), job, { source: 'producer', now: deps.now(), random: Math.random() });
      await deps.publisher.publish(events);
      // The cached view is now stale; drop it so that reads go to MongoDB until the persister caches the new one.
      await deps.cache.evict([job.id]).catch(() => undefined);
      if (events.some((e) => e.type === 'JobCancelRequested')) {
        await deps.announceCancellation(job.id).catch((err: unknown) =>
          deps.logger.warn('cancellation not announced; the attempt will finish', {
            jobId: job.id,
            err: String(err),
          }),
        );
      }
      res.status(202).json(toJobView(foldEvents(events, job)!));
    };

  router.post(
    '/:id/cancel',
    command(() => ({ type: 'CancelJob', reason: null })),
  );
  router.post(
    '/:id/retry',
    command(() => ({ type: 'RetryJob' })),
  );

  return router;
}
