import { pipeline } from 'node:stream/promises';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  JoblineError,
  decide,
  foldEvents,
  httpJobResponseKey,
  httpJobResultPath,
  toJobView,
  type BlobStore,
  type JobCommand,
  type OutboundAllowList,
} from '@jobline/libs';
import { jobAcceptor, type AcceptJobs, type JobAcceptorDeps } from './accept-jobs';
import { tenantOf } from './auth';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  parseCreateJob,
  parseCreateJobBatch,
  type JobRequestLimits,
} from './create-job-request';
import { jobListRoute } from './job-list-route';

export interface JobsRouterDeps extends JobAcceptorDeps {
  /** Tells the runners, now, that a running job's cancellation was requested (best effort; the log is the record). */
  announceCancellation: (jobId: string) => Promise<void>;
  /** Most jobs one batch request may create. */
  batchMaxJobs: number;
  /** Largest job payload, serialized as JSON, in bytes. @defaultValue 262144 */
  maxPayloadBytes?: number;
  /** What a `callbackUrl` may point at beyond public addresses (OUTBOUND_ALLOWLIST). @defaultValue nothing */
  outboundAllowList?: OutboundAllowList;
  /** Where `http` jobs with `store: true` keep their responses; none: `/v1/jobs/{id}/result` finds nothing. */
  blobs?: BlobStore;
}

const JobId = z.uuid();

/** The request body, refused with a 415 naming `Content-Type` unless it came as JSON. */
export function jsonBody(req: Request): unknown {
  if (!req.is('application/json')) {
    throw new JoblineError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json', {
      details: [{ field: 'Content-Type', code: 'invalid_value', message: 'application/json' }],
    });
  }
  return req.body;
}

/** The bounds the producer's configuration sets on job requests. */
export function jobRequestLimits(deps: JobsRouterDeps): JobRequestLimits {
  return {
    maxPayloadBytes: deps.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    outboundAllowList: deps.outboundAllowList,
  };
}

export function jobsRouter(deps: JobsRouterDeps, acceptJobs: AcceptJobs = jobAcceptor(deps)): Router {
  const router = Router();
  const limits = jobRequestLimits(deps);

  router.post('/', async (req, res) => {
    const [view] = await acceptJobs(req, res, [parseCreateJob(jsonBody(req), limits)]);
    res.status(202).location(`${req.baseUrl}/${view!.id}`).json(view);
  });

  // Before the `/:id` routes, so that `batch` is never taken for a job id.
  router.post('/batch', async (req, res) => {
    const views = await acceptJobs(req, res, parseCreateJobBatch(jsonBody(req), deps.batchMaxJobs, limits));
    res.status(202).json({ jobs: views });
  });

  router.get('/', jobListRoute(deps.reader));

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

  router.get('/:id/result', async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    const view = id.success ? await deps.reader.find(tenantId, id.data) : null;
    if (!view) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    const key = httpJobResponseKey(tenantId, view.id);
    // Only a job whose resultUrl is this path has its result here; the key is derived from the tenant and the job.
    const info = view.resultUrl === httpJobResultPath(view.id) ? await deps.blobs?.stat(key) : null;
    if (!info) throw new JoblineError('BLOB_NOT_FOUND', `job ${view.id} has no stored result`);
    const body = await deps.blobs!.get(key);
    // setHeader, not express's res.set, which would add a charset to the type the remote server gave.
    res.setHeader('Content-Type', info.contentType);
    res.setHeader('Content-Length', String(info.bytes));
    // Whatever a remote server answered is handed over as a file, never rendered as a page of the API's origin.
    res.setHeader('Content-Disposition', 'attachment; filename="response"');
    res.setHeader('Content-Security-Policy', "sandbox; default-src 'none'");
    res.setHeader('Cache-Control', 'private, no-store');
    try {
      await pipeline(body, res);
    } catch (err) {
      if (!res.headersSent) throw err;
      deps.logger.warn('stored result not sent whole', { jobId: view.id, err: (err as Error).message });
      res.destroy();
    }
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
