import { Router } from 'express';
import { z } from 'zod';
import { JoblineError, timeOrderedId } from '@jobline/libs';
import type { AcceptJobs } from '../jobs/accept-jobs';
import {
  CREATION_ERRORS,
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyKeyHeader,
  LOCATION_HEADER,
  json,
  jobLinks,
  named,
  operation,
  route,
} from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import { CreateTimerRequest, TimerView, parseCreateTimer, toTimerView } from './create-timer-request';
import { JobIdPath, jobRequestLimits, jsonBody, type JobsRouterDeps } from '../jobs/jobs-router';

const TimerId = z.uuid();

export const TIMERS_PATH = '/v1/timers';

const TimerViewBody = named('TimerView', TimerView);
const TIMER_LINKS = jobLinks({ GetTimer: 'getTimer', GetTimerJob: 'getJob', CancelTimer: 'cancelJob' });

const createTimer = operation('post', TIMERS_PATH, {
  operationId: 'createTimer',
  summary: 'Create a timer',
  description:
    'A timer is an `http` job, scheduled at `runAt` (or now plus hours, minutes and seconds), that POSTs ' +
    '`{"id": <timer id>, "payload": <payload>}` as JSON to `url`, signed like callbacks (`Jobline-Signature`), with ' +
    '`Idempotency-Key` and `Jobline-Job-Id` set to the timer id. Its id is the job’s: follow it at /v1/jobs/{id} and ' +
    'cancel it with POST /v1/jobs/{id}/cancel. It may be due at most a year ahead, and `url` may not name a loopback, ' +
    'private, link-local or metadata address. Answers once the job is in Kafka (acks=-1).',
  tags: ['timers'],
  headers: IdempotencyKeyHeader,
  body: { required: true, ...json(named('CreateTimerRequest', CreateTimerRequest)) },
  responses: {
    '201': {
      description: 'the timer’s job is in Kafka',
      headers: { ...LOCATION_HEADER('timer'), ...IDEMPOTENT_REPLAYED_HEADER },
      ...json(TimerViewBody),
      links: TIMER_LINKS,
    },
  },
  errors: CREATION_ERRORS,
});

const getTimer = operation('get', `${TIMERS_PATH}/{id}`, {
  operationId: 'getTimer',
  summary: 'A timer and the time left',
  description: 'A job that is not a timer, and another tenant’s timer, answer 404.',
  tags: ['timers'],
  path: z.object({ id: JobIdPath.shape.id.describe('the timer id (a UUID); other ids answer 404') }),
  responses: { '200': { description: 'the timer', ...json(TimerViewBody), links: TIMER_LINKS } },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND'],
});

/** The operations of `/v1/timers`, as the router serves them. */
export const TIMERS_OPERATIONS = [createTimer, getTimer];

/**
 * `/v1/timers`: a timer is an `http` job that POSTs `{id, payload}` to a URL when due, created through the same path
 * as any job (idempotency, publishing, caching), and read back as the time left. It is cancelled as a job is.
 */
export function timersRouter(deps: JobsRouterDeps, acceptJobs: AcceptJobs): Router {
  const router = Router();
  const limits = jobRequestLimits(deps);

  route(router, TIMERS_PATH, createTimer, async (req, res) => {
    const id = timeOrderedId();
    const request = parseCreateTimer(jsonBody(req), limits, deps.now(), id);
    const [view] = await acceptJobs(req, res, [request], [id]);
    const timer = toTimerView(view!, deps.now());
    // A replay answers with the jobs the key created first: a key used for a plain job is not this timer's.
    if (!timer)
      throw new JoblineError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used for a job, not a timer');
    res.status(201).location(`${req.baseUrl}/${timer.id}`).json(timer);
  });

  route(router, TIMERS_PATH, getTimer, async (req, res) => {
    const id = TimerId.safeParse(req.params.id);
    const view = id.success ? await deps.reader.find(tenantOf(req), id.data) : null;
    // Another tenant's timer, and a job that is not a timer, look like no timer at all.
    const timer = view ? toTimerView(view, deps.now()) : null;
    if (!timer) throw new JoblineError('JOB_NOT_FOUND', `no timer ${req.params.id}`);
    res.json(timer);
  });

  return router;
}
