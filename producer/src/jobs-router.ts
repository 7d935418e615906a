import { Router } from 'express';
import { z } from 'zod';
import { JoblineError, evolve, toJobView, type EventPublisher, type JobCache, type Logger } from '@jobline/libs';
import { tenantOf } from './auth';
import { jobRequestedEvent, parseCreateJob } from './create-job-request';
import type { JobReader } from './job-reader';

export interface JobsRouterDeps {
  publisher: EventPublisher;
  cache: JobCache;
  reader: JobReader;
  logger: Logger;
  now: () => Date;
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
    const event = jobRequestedEvent(request, tenantId, deps.now());

    // 202 promises the job is in the log: answer only after Kafka acknowledged it (acks=-1). If Kafka fails,
    // nothing is cached either, so the client's retry starts from a clean slate.
    await deps.publisher.publish([event]);

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

  return router;
}
