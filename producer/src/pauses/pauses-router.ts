import { Router, type Request, type Response } from 'express';
import {
  JoblineError,
  evolvePause,
  newPauseEvent,
  pauseScopeFromDocument,
  pauseScopeId,
  type Logger,
  type PauseCache,
  type PauseDocument,
  type PauseEventType,
  type PausePublisher,
  type PositionedPauseScope,
} from '@jobline/libs';
import type { Collection } from 'mongodb';
import { json, named, operation, route, type ApiOperation } from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import { toFieldIssues } from '../jobs/create-job-request';
import { JobTypePath, PauseRequest, PausesView, latestScopes, toPausesView } from './pause-request';

export interface PausesRouterDeps {
  publisher: PausePublisher;
  cache: PauseCache;
  /** The `pauses` projection. */
  pauses: Collection<PauseDocument>;
  logger: Logger;
  now: () => Date;
}

export const PAUSES_PATH = '/v1/pauses';

const PausesViewBody = named('PausesView', PausesView);
const ANSWER = { description: 'what is paused of the tenant after the change', ...json(PausesViewBody) };
const IDEMPOTENT =
  'Pausing what is paused, or resuming what is not, is no error and changes nothing but the reason; every request ' +
  'is still one event in the log (`jobline.pause-events`), so that the latest request wins whatever an earlier read ' +
  'showed, and the log records who asked. Answers once the event is in Kafka (acks=-1).';
const PAUSE_BODY = {
  required: false,
  description: 'optional; `{}` or no body pauses without a reason',
  ...json(named('PauseRequest', PauseRequest)),
};
const PAUSE_ERRORS = ['VALIDATION_FAILED', 'UNSUPPORTED_MEDIA_TYPE', 'KAFKA_UNAVAILABLE'] as const;

const listPauses = operation('get', PAUSES_PATH, {
  operationId: 'listPauses',
  summary: 'What is paused of the tenant',
  description:
    'The tenant as a whole and the job types paused on their own. A change is shown as soon as its request is ' +
    'answered, before the persister has folded it into MongoDB.',
  tags: ['pauses'],
  responses: { '200': { description: 'the tenant’s pauses', ...json(PausesViewBody) } },
});

const pauseTenant = operation('put', `${PAUSES_PATH}/tenant`, {
  operationId: 'pauseTenant',
  summary: 'Pause every job of the tenant',
  description:
    'From now on no job of the tenant starts: `pending` ones stay `pending`, scheduled ones and retries that come ' +
    'due wait, and new ones are accepted and wait too. Attempts already running finish. Job types paused on their ' +
    `own stay paused when the tenant is resumed. ${IDEMPOTENT}`,
  tags: ['pauses'],
  body: PAUSE_BODY,
  responses: { '200': ANSWER },
  errors: [...PAUSE_ERRORS],
});

const resumeTenant = operation('delete', `${PAUSES_PATH}/tenant`, {
  operationId: 'resumeTenant',
  summary: 'Resume the tenant’s jobs',
  description:
    'The jobs held by the tenant’s pause start again, in their order, but for the job types paused on their own. ' +
    IDEMPOTENT,
  tags: ['pauses'],
  responses: { '200': ANSWER },
  errors: ['KAFKA_UNAVAILABLE'],
});

const pauseJobType = operation('put', `${PAUSES_PATH}/types/{type}`, {
  operationId: 'pauseJobType',
  summary: 'Pause one job type of the tenant',
  description:
    'From now on no job of this type of the tenant starts: `pending` ones stay `pending`, scheduled ones and retries ' +
    `that come due wait. Attempts already running finish; other types and other tenants run on. ${IDEMPOTENT}`,
  tags: ['pauses'],
  path: JobTypePath,
  body: PAUSE_BODY,
  responses: { '200': ANSWER },
  errors: [...PAUSE_ERRORS],
});

const resumeJobType = operation('delete', `${PAUSES_PATH}/types/{type}`, {
  operationId: 'resumeJobType',
  summary: 'Resume one job type of the tenant',
  description: 'Jobs of this type start again, in their order, unless the tenant is paused as a whole. ' + IDEMPOTENT,
  tags: ['pauses'],
  path: JobTypePath,
  responses: { '200': ANSWER },
  errors: ['VALIDATION_FAILED', 'KAFKA_UNAVAILABLE'],
});

/** The operations of `/v1/pauses`, as the router serves them. */
export const PAUSES_OPERATIONS: ApiOperation[] = [listPauses, pauseTenant, resumeTenant, pauseJobType, resumeJobType];

/**
 * `/v1/pauses`: every pause and resume is a `WorkPaused` or `WorkResumed` event on `jobline.pause-events`; the runners
 * read that topic whole and start no paused work (`runner/src/pauses/pause-view.ts`). Reads come from the `pauses`
 * projection, merged with what the producer cached at the position of each event it published, so that a read right
 * after a change shows it before the persister has folded it.
 */
export function pausesRouter(deps: PausesRouterDeps): Router {
  const router = Router();

  /** Every known scope of the tenant, at its latest state. */
  async function load(tenantId: string): Promise<Map<string, PositionedPauseScope>> {
    const [cached, docs] = await Promise.all([
      deps.cache.get(tenantId).catch((err: unknown) => {
        deps.logger.warn('pause cache read failed; reading MongoDB', { tenantId, err });
        return [];
      }),
      deps.pauses.find({ tenantId }).toArray(),
    ]);
    const projected = docs.map((doc) => ({ scope: pauseScopeFromDocument(doc), position: doc.position }));
    return latestScopes(projected, cached);
  }

  /** Publishes the change, caches the scope's new state at the event's position, and answers with the tenant's pauses. */
  async function change(
    req: Request,
    res: Response,
    type: PauseEventType,
    jobType: string | null,
    reason: string | null = null,
  ) {
    const tenantId = tenantOf(req);
    // Read before publishing: a store that cannot be read fails the request with nothing published.
    const scopes = await load(tenantId);
    const ctx = { tenantId, source: 'producer' as const, now: deps.now() };
    const by = req.principal?.tokenId ?? tenantId;
    const event =
      type === 'WorkPaused'
        ? newPauseEvent('WorkPaused', ctx, { jobType, by, reason })
        : newPauseEvent('WorkResumed', ctx, { jobType, by });
    const position = await deps.publisher.publish(event);
    const id = pauseScopeId(tenantId, jobType);
    const next = { scope: evolvePause(scopes.get(id)?.scope ?? null, event), position };
    scopes.set(id, next);
    await deps.cache.putNewer([next]).catch((err: unknown) => {
      deps.logger.warn('pause cache write failed; reads will use MongoDB', { tenantId, jobType, err });
    });
    deps.logger.info(type === 'WorkPaused' ? 'work paused' : 'work resumed', { tenantId, jobType, by });
    res.json(toPausesView([...scopes.values()].map((s) => s.scope)));
  }

  route(router, PAUSES_PATH, listPauses, async (req, res) => {
    const scopes = await load(tenantOf(req));
    res.json(toPausesView([...scopes.values()].map((s) => s.scope)));
  });

  route(router, PAUSES_PATH, pauseTenant, async (req, res) => {
    const { reason } = pauseBody(req);
    await change(req, res, 'WorkPaused', null, reason ?? null);
  });

  route(router, PAUSES_PATH, resumeTenant, async (req, res) => {
    await change(req, res, 'WorkResumed', null);
  });

  route(router, PAUSES_PATH, pauseJobType, async (req, res) => {
    const jobType = jobTypeOf(req);
    const { reason } = pauseBody(req);
    await change(req, res, 'WorkPaused', jobType, reason ?? null);
  });

  route(router, PAUSES_PATH, resumeJobType, async (req, res) => {
    await change(req, res, 'WorkResumed', jobTypeOf(req));
  });

  return router;
}

function jobTypeOf(req: Request): string {
  const parsed = JobTypePath.safeParse(req.params);
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', `unknown job type ${JSON.stringify(req.params.type)}`, {
      details: [
        {
          field: 'type',
          code: 'invalid_value',
          message: `one of: ${JobTypePath.shape.type.options.join(', ')}`,
        },
      ],
    });
  }
  return parsed.data.type;
}

/** The body of a pause, which may be left out; one that is sent must be JSON. */
function pauseBody(req: Request): PauseRequest {
  // No body, or an empty one without a type (what clients send for a PUT without a body): no reason.
  const length = req.get('content-length');
  if (!req.get('content-type') && !req.get('transfer-encoding') && (length === undefined || length === '0')) return {};
  if (!req.is('application/json')) {
    throw new JoblineError('UNSUPPORTED_MEDIA_TYPE', 'send the request body as application/json, or none', {
      details: [{ field: 'Content-Type', code: 'invalid_value', message: 'application/json' }],
    });
  }
  // An empty JSON body is no body.
  const parsed = PauseRequest.safeParse(req.body ?? {});
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', 'the pause request is invalid', {
      details: toFieldIssues(parsed.error),
    });
  }
  return parsed.data;
}
