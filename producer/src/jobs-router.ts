import { setTimeout as sleep } from 'node:timers/promises';
import { Router, type Request, type RequestHandler } from 'express';
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
  type Logger,
} from '@jobline/libs';
import { tenantOf } from './auth';
import { jobRequestedEvent, parseCreateJob, parseIdempotencyKey } from './create-job-request';
import { hashRequest, type IdempotencyStore } from './idempotency';
import type { JobReader } from './job-reader';

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
}

const JobId = z.uuid();

export function jobsRouter(deps: JobsRouterDeps): Router {
  const router = Router();

  router.post('/', async (req, res) => {
    if (!req.is('application/json')) {
      throw new JoblineError('UNSUPPORTED_MEDIA_TYPE', 'send the job as application/json');
    }
    const tenantId = tenantOf(req);
    const request = parseCreateJob(req.body);
    const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
    const event = jobRequestedEvent(request, tenantId, deps.now(), idempotencyKey);

    let release = async () => {};
    if (idempotencyKey !== null) {
      const claim = await deps.idempotency.claim(tenantId, idempotencyKey, hashRequest(req.body), event.jobId);
      if (claim.kind === 'replay') {
        const view = await replayedView(tenantId, claim.jobId);
        res.status(202).location(`${req.baseUrl}/${view.id}`).set('Idempotent-Replayed', 'true').json(view);
        return;
      }
      release = claim.release;
    }

    // 202 promises the job is in the log: answer only after Kafka acknowledged it (acks=-1). If Kafka fails,
    // nothing is cached either, so the client's retry starts from a clean slate.
    try {
      await deps.publisher.publish([event]);
    } catch (err) {
      await release().catch(() => undefined);
      throw err;
    }

    const job = evolve(null, event)!;
    const view = toJobView(job);
    try {
      await deps.cache.putIfAbsent({ tenantId, view });
    } catch (err) {
      deps.logger.warn('job cache write failed; reads will use MongoDB', {
        jobId: job.id,
        err: (err as Error).message,
      });
    }
    deps.logger.debug('job accepted', { jobId: job.id, tenantId, type: job.type });
    res.status(202).location(`${req.baseUrl}/${job.id}`).json(view);
  });

  router.get('/:id', async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    // An id that cannot exist and another tenant's job look the same from outside: 404.
    const view = id.success ? await deps.reader.find(tenantId, id.data) : null;
    if (!view) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    res.json(view);
  });

  /** The job a repeated request created; the first request may still be publishing it. */
  async function replayedView(tenantId: string, jobId: string) {
    const deadline = Date.now() + deps.replayWaitMs;
    for (;;) {
      const view = await deps.reader.find(tenantId, jobId);
      if (view) return view;
      if (Date.now() >= deadline) {
        throw new JoblineError(
          'IDEMPOTENT_REQUEST_IN_PROGRESS',
          'a request with this Idempotency-Key is still being accepted; retry shortly',
        );
      }
      await sleep(20);
    }
  }

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
