import { pipeline } from 'node:stream/promises';
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import {
  JobEvent,
  JobView,
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
import {
  CreateJobRequestByType,
  DEFAULT_MAX_PAYLOAD_BYTES,
  createJobBatchRequest,
  parseCreateJob,
  parseCreateJobBatch,
  type JobRequestLimits,
} from './create-job-request';
import { jobListOperation, jobListRoute } from './job-list-route';

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

/** The `{id}` of the job routes. */
export const JobIdPath = z.object({
  id: z
    .uuid()
    .describe(
      'the job id (a UUID); an id that is not a UUID, and another tenant’s job, answer 404; a path that is not ' +
        'valid percent-encoding answers 400',
    ),
});

export const JOBS_PATH = '/v1/jobs';

const JobViewBody = named('JobView', JobView);

/** What a client can do next with a job it was just shown (the links of OpenAPI's stateful description). */
const JOB_LINKS = jobLinks({
  GetJob: 'getJob',
  ListJobEvents: 'listJobEvents',
  StreamJob: 'streamJob',
  CancelJob: 'cancelJob',
  RetryJob: 'retryJob',
});

const createJob = operation('post', JOBS_PATH, {
  operationId: 'createJob',
  summary: 'Create a job',
  description:
    'Answers once the job’s JobRequested event is in Kafka (acks=-1). `runAt` may be at most a year ahead; a ' +
    '`callbackUrl` or a payload URL that names a loopback, private, link-local or metadata address is refused (400).',
  tags: ['jobs'],
  headers: IdempotencyKeyHeader,
  body: { required: true, ...json(named('CreateJobRequest', CreateJobRequestByType)) },
  responses: {
    '202': {
      description: 'the job is in Kafka',
      headers: { ...LOCATION_HEADER('job'), ...IDEMPOTENT_REPLAYED_HEADER },
      ...json(JobViewBody),
      links: JOB_LINKS,
    },
  },
  errors: CREATION_ERRORS,
});

const createJobs = operation('post', `${JOBS_PATH}/batch`, (options) => ({
  operationId: 'createJobs',
  summary: 'Create many jobs, all or none',
  description:
    `Up to ${options.batchMaxJobs} jobs (BATCH_MAX_JOBS). Every job is validated before any is created; ` +
    'field names of invalid jobs carry their index (`jobs.2.payload.ms`). The views come in request order.',
  tags: ['jobs'],
  headers: IdempotencyKeyHeader,
  body: {
    required: true,
    ...json(named('CreateJobBatchRequest', createJobBatchRequest(options.batchMaxJobs, CreateJobRequestByType))),
  },
  responses: {
    '202': {
      description: 'every job is in Kafka',
      headers: IDEMPOTENT_REPLAYED_HEADER,
      ...json(named('JobBatch', z.object({ jobs: z.array(JobViewBody) }))),
      links: { GetFirstJob: { operationId: 'getJob', parameters: { id: '$response.body#/jobs/0/id' } } },
    },
  },
  errors: CREATION_ERRORS,
}));

const listJobs = jobListOperation(JOBS_PATH, {
  operationId: 'listJobs',
  summary: 'List jobs',
  description:
    'The tenant’s jobs in the projection, newest first (createdAt, then id), one page at a time. A cursor is tied ' +
    'to the filters it was issued for.',
  tags: ['jobs'],
});

const getJob = operation('get', `${JOBS_PATH}/{id}`, {
  operationId: 'getJob',
  summary: 'A job',
  tags: ['jobs'],
  path: JobIdPath,
  responses: { '200': { description: 'the job view', ...json(JobViewBody), links: JOB_LINKS } },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND'],
});

// Each event type is a component of its own, as data teams know them from the topic.
for (const event of JobEvent.options) named(event.shape.type.value, event);

const listJobEvents = operation('get', `${JOBS_PATH}/{id}/events`, {
  operationId: 'listJobEvents',
  summary: 'A job’s event history',
  description:
    'The job’s stored events in log order, as published on `jobline.job-events`. Empty for a job accepted a moment ' +
    'ago whose events are not persisted yet.',
  tags: ['jobs'],
  path: JobIdPath,
  responses: {
    '200': {
      description: 'the events',
      ...json(named('JobEventList', z.object({ items: z.array(named('JobEvent', JobEvent)) }))),
    },
  },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND'],
});

const getJobResult = operation('get', `${JOBS_PATH}/{id}/result`, {
  operationId: 'getJobResult',
  summary: 'The stored response of an `http` job',
  description:
    'For an `http` job created with `store: true` and completed: the response body as the remote server sent it, ' +
    'with its content type, as an attachment. This path is the job’s `resultUrl`. Other jobs, and jobs that have ' +
    'not completed, answer 404.',
  tags: ['jobs'],
  path: JobIdPath,
  responses: {
    '200': {
      description: 'the stored body',
      headers: { 'Content-Disposition': { description: '`attachment`', schema: { type: 'string' } } },
      content: { '*/*': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } } },
    },
  },
  errors: ['VALIDATION_FAILED', 'JOB_NOT_FOUND', 'BLOB_NOT_FOUND'],
});

const jobCommand = (name: 'cancel' | 'retry', operationId: string, summary: string, description: string) =>
  operation('post', `${JOBS_PATH}/{id}/${name}`, {
    operationId,
    summary,
    description,
    tags: ['jobs'],
    path: JobIdPath,
    responses: {
      '202': { description: 'the command is in Kafka; the job view after it', ...json(JobViewBody), links: JOB_LINKS },
    },
    errors: [
      'VALIDATION_FAILED',
      'JOB_NOT_FOUND',
      name === 'cancel' ? 'JOB_NOT_CANCELLABLE' : 'JOB_NOT_RETRYABLE',
      'KAFKA_UNAVAILABLE',
    ],
  });

const cancelJob = jobCommand(
  'cancel',
  'cancelJob',
  'Cancel a job',
  '`pending` or `scheduled`: cancelled, never runs; `processing`: aborted through its signal. A timer is cancelled ' +
    'here too, by its id.',
);
const retryJob = jobCommand(
  'retry',
  'retryJob',
  'Redrive a failed job',
  'The job gets `maxAttempts` more attempts; attempt numbers keep counting. Only a `failed` job: a `discarded` one ' +
    'is set aside for good (409). POST /v1/dead-letters/redrive redrives many.',
);

/** The operations of `/v1/jobs`, as the router serves them. */
export const JOBS_OPERATIONS = [
  createJob,
  createJobs,
  listJobs,
  getJob,
  listJobEvents,
  getJobResult,
  cancelJob,
  retryJob,
];

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

  route(router, JOBS_PATH, createJob, async (req, res) => {
    const [view] = await acceptJobs(req, res, [parseCreateJob(jsonBody(req), limits)]);
    res.status(202).location(`${req.baseUrl}/${view!.id}`).json(view);
  });

  // Before the `/:id` routes, so that `batch` is never taken for a job id.
  route(router, JOBS_PATH, createJobs, async (req, res) => {
    const views = await acceptJobs(req, res, parseCreateJobBatch(jsonBody(req), deps.batchMaxJobs, limits));
    res.status(202).json({ jobs: views });
  });

  route(router, JOBS_PATH, listJobs, jobListRoute(deps.reader));

  route(router, JOBS_PATH, getJob, async (req, res) => {
    const tenantId = tenantOf(req);
    const id = JobId.safeParse(req.params.id);
    // An id that cannot exist and another tenant's job look the same from outside: 404.
    const view = id.success ? await deps.reader.find(tenantId, id.data) : null;
    if (!view) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    res.json(view);
  });

  route(router, JOBS_PATH, listJobEvents, async (req, res) => {
    const id = JobId.safeParse(req.params.id);
    const events = id.success ? await deps.reader.history(tenantOf(req), id.data) : null;
    if (!events) throw new JoblineError('JOB_NOT_FOUND', `no job ${req.params.id}`);
    res.json({ items: events });
  });

  route(router, JOBS_PATH, getJobResult, async (req, res) => {
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
      // The cached view is now stale. A job the persister has not folded yet is only in the cache: its view after the
      // command replaces the one cached at acceptance, so that reads find the job meanwhile. Otherwise the cached view
      // is dropped, so that reads go to MongoDB until the persister caches the new one.
      const view = toJobView(foldEvents(events, job)!);
      const cached = await deps.cache.putUnlessPersisted({ tenantId, view }).catch(() => false);
      if (!cached) await deps.cache.evict([job.id]).catch(() => undefined);
      if (events.some((e) => e.type === 'JobCancelRequested')) {
        await deps.announceCancellation(job.id).catch((err: unknown) =>
          deps.logger.warn('cancellation not announced; the attempt will finish', {
            jobId: job.id,
            err: String(err),
          }),
        );
      }
      res.status(202).json(view);
    };

  route(
    router,
    JOBS_PATH,
    cancelJob,
    command(() => ({ type: 'CancelJob', reason: null })),
  );
  route(
    router,
    JOBS_PATH,
    retryJob,
    command(() => ({ type: 'RetryJob' })),
  );

  return router;
}
