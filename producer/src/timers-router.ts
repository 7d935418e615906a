import { Router } from 'express';
import { z } from 'zod';
import { JoblineError, timeOrderedId } from '@jobline/libs';
import type { AcceptJobs } from './accept-jobs';
import { tenantOf } from './auth';
import { parseCreateTimer, toTimerView } from './create-timer-request';
import { jobRequestLimits, jsonBody, type JobsRouterDeps } from './jobs-router';

const TimerId = z.uuid();

/**
 * `/v1/timers`: a timer is an `http` job that POSTs `{id, payload}` to a URL when due, created through the same path
 * as any job (idempotency, publishing, caching), and read back as the time left. It is cancelled as a job is.
 */
export function timersRouter(deps: JobsRouterDeps, acceptJobs: AcceptJobs): Router {
  const router = Router();
  const limits = jobRequestLimits(deps);

  router.post('/', async (req, res) => {
    const id = timeOrderedId();
    const request = parseCreateTimer(jsonBody(req), limits, deps.now(), id);
    const [view] = await acceptJobs(req, res, [request], [id]);
    const timer = toTimerView(view!, deps.now());
    // A replay answers with the jobs the key created first: a key used for a plain job is not this timer's.
    if (!timer)
      throw new JoblineError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a job, not a timer');
    res.status(201).location(`${req.baseUrl}/${timer.id}`).json(timer);
  });

  router.get('/:id', async (req, res) => {
    const id = TimerId.safeParse(req.params.id);
    const view = id.success ? await deps.reader.find(tenantOf(req), id.data) : null;
    // Another tenant's timer, and a job that is not a timer, look like no timer at all.
    const timer = view ? toTimerView(view, deps.now()) : null;
    if (!timer) throw new JoblineError('JOB_NOT_FOUND', `no timer ${req.params.id}`);
    res.json(timer);
  });

  return router;
}
