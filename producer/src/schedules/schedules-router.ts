import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  JoblineError,
  decideSchedule,
  foldScheduleEvents,
  scheduleFromDocument,
  timeOrderedId,
  type Logger,
  type Schedule,
  type ScheduleCache,
  type ScheduleCommand,
  type ScheduleDocument,
  type ScheduleEvent,
  type ScheduleEventOf,
  type SchedulePublisher,
} from '@jobline/libs';
import type { Collection } from 'mongodb';
import {
  IDEMPOTENT_REPLAYED_HEADER,
  IdempotencyKeyHeader,
  LOCATION_HEADER,
  json,
  named,
  operation,
  route,
  type ApiLink,
} from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import type { JobRequestLimits } from '../jobs/create-job-request';
import { parseIdempotencyKey, toFieldIssues } from '../jobs/create-job-request';
import { hashRequest, type IdempotencyStore } from '../jobs/idempotency';
import {
  CreateScheduleRequest,
  ScheduleView,
  UpdateScheduleRequest,
  parseCreateSchedule,
  parseUpdateSchedule,
  recentFires,
  toScheduleView,
} from './create-schedule-request';
import type { JobReader } from '../jobs/job-reader';
import { jsonBody } from '../jobs/jobs-router';

export interface SchedulesRouterDeps {
  publisher: SchedulePublisher;
  cache: ScheduleCache;
  /** The `schedules` projection. */
  schedules: Collection<ScheduleDocument>;
  reader: JobReader;
  limits: JobRequestLimits;
  /** The tenant's Idempotency-Keys, shared with the routes that create jobs. */
  idempotency: IdempotencyStore;
  logger: Logger;
  now: () => Date;
}

export const SCHEDULES_PATH = '/v1/schedules';

const ScheduleIdPath = z.object({
  id: z.uuid().describe('the schedule id (a UUID); another tenant’s schedule, and a deleted one, answer 404'),
});
const ScheduleViewBody = named('ScheduleView', ScheduleView);
const SCHEDULE_LINKS: Record<string, ApiLink> = Object.fromEntries(
  ['getSchedule', 'updateSchedule', 'deleteSchedule'].map((operationId) => [
    operationId.replace(/^./, (c) => c.toUpperCase()),
    { operationId, parameters: { id: '$response.body#/id' } },
  ]),
);
const CHANGE_ERRORS = ['VALIDATION_FAILED', 'UNSUPPORTED_MEDIA_TYPE', 'KAFKA_UNAVAILABLE'] as const;

const ListSchedulesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).describe('schedules per page'),
  cursor: z.uuid().optional().describe('`nextCursor` of the previous page'),
});
const SchedulePage = named(
  'SchedulePage',
  z.object({
    items: z.array(ScheduleViewBody),
    nextCursor: z.string().nullable().describe('pass as `cursor` for the next page; null on the last'),
  }),
);

const createSchedule = operation('post', SCHEDULES_PATH, {
  operationId: 'createSchedule',
  summary: 'Create a schedule',
  description:
    'A schedule creates a job at each fire time of a cron expression (5 or 6 fields, in an IANA time zone) or of a ' +
    'fixed interval, between `startAt` and `endAt`. Each fire’s job id is derived from the schedule and the fire ' +
    'time, so a fire never creates two jobs; its metadata names the schedule (`jobline-schedule`) and the fire time ' +
    '(`jobline-fire-at`). Answers once the ScheduleCreated event is in Kafka (acks=-1). The same Idempotency-Key ' +
    'and body answer with the schedule the first request created, as it is now; `404` if it was deleted since.',
  tags: ['schedules'],
  headers: IdempotencyKeyHeader,
  body: { required: true, ...json(named('CreateScheduleRequest', CreateScheduleRequest)) },
  responses: {
    '201': {
      description: 'the schedule is in Kafka',
      headers: { ...LOCATION_HEADER('schedule'), ...IDEMPOTENT_REPLAYED_HEADER },
      ...json(ScheduleViewBody),
      links: SCHEDULE_LINKS,
    },
  },
  errors: [...CHANGE_ERRORS, 'IDEMPOTENCY_KEY_REUSED', 'DEPENDENCY_UNAVAILABLE', 'SCHEDULE_NOT_FOUND'],
});

const listSchedules = operation('get', SCHEDULES_PATH, {
  operationId: 'listSchedules',
  summary: 'List schedules',
  description: 'The tenant’s schedules in the projection, oldest first, one page at a time. Deleted ones are left out.',
  tags: ['schedules'],
  query: ListSchedulesQuery,
  responses: { '200': { description: 'one page of schedules', ...json(SchedulePage) } },
  errors: ['VALIDATION_FAILED'],
});

const getSchedule = operation('get', `${SCHEDULES_PATH}/{id}`, {
  operationId: 'getSchedule',
  summary: 'A schedule, its next fire times and its recent jobs',
  tags: ['schedules'],
  path: ScheduleIdPath,
  responses: { '200': { description: 'the schedule', ...json(ScheduleViewBody), links: SCHEDULE_LINKS } },
  errors: ['SCHEDULE_NOT_FOUND'],
});

const updateSchedule = operation('patch', `${SCHEDULES_PATH}/{id}`, {
  operationId: 'updateSchedule',
  summary: 'Change a schedule: its trigger, job, dates, policies, or pause and resume it',
  description:
    'Fields left out keep their values. A new trigger or new dates apply from now on: fires before the change are ' +
    'not caught up on; nor are those due while the schedule was paused. Changes made at the same moment are applied ' +
    'in the order Kafka has them; a change decided on a state that another had already replaced is dropped. Answers ' +
    'once the events are in Kafka (acks=-1).',
  tags: ['schedules'],
  path: ScheduleIdPath,
  body: { required: true, ...json(named('UpdateScheduleRequest', UpdateScheduleRequest)) },
  responses: {
    '200': { description: 'the schedule after the change', ...json(ScheduleViewBody), links: SCHEDULE_LINKS },
  },
  errors: [...CHANGE_ERRORS, 'SCHEDULE_NOT_FOUND'],
});

const deleteSchedule = operation('delete', `${SCHEDULES_PATH}/{id}`, {
  operationId: 'deleteSchedule',
  summary: 'Delete a schedule',
  description: 'It fires no more; jobs it created are left as they are. Answers once ScheduleDeleted is in Kafka.',
  tags: ['schedules'],
  path: ScheduleIdPath,
  responses: { '204': { description: 'the schedule is deleted' } },
  errors: ['SCHEDULE_NOT_FOUND', 'KAFKA_UNAVAILABLE'],
});

/** The operations of `/v1/schedules`, as the router serves them. */
export const SCHEDULES_OPERATIONS = [createSchedule, listSchedules, getSchedule, updateSchedule, deleteSchedule];

/**
 * `/v1/schedules`: every change is decided on the schedule's latest state (`decideSchedule`), published to
 * `jobline.schedule-events`, and cached at its new revision, so that a read right after it finds it before the
 * persister has folded it into MongoDB. The runners fire schedules (see `schedule-firer.ts` in the runner).
 */
export function schedulesRouter(deps: SchedulesRouterDeps): Router {
  const router = Router();

  /** The schedule's latest state, a deleted one included: the newer of the cached and the projected one. */
  async function latest(tenantId: string, id: string): Promise<Schedule | null> {
    const [cached, doc] = await Promise.all([
      deps.cache.get(tenantId, id).catch((err: unknown) => {
        deps.logger.warn('schedule cache read failed; reading MongoDB', { err });
        return null;
      }),
      deps.schedules.findOne({ _id: id, tenantId }),
    ]);
    const projected = doc ? scheduleFromDocument(doc) : null;
    return cached && (!projected || cached.revision > projected.revision) ? cached : projected;
  }

  /** The schedule the request names, as it is now; SCHEDULE_NOT_FOUND for none, or a deleted one. */
  async function load(req: Request): Promise<Schedule> {
    const id = z.uuid().safeParse(req.params.id);
    const schedule = id.success ? await latest(tenantOf(req), id.data) : null;
    if (schedule && schedule.status !== 'deleted') return schedule;
    throw new JoblineError('SCHEDULE_NOT_FOUND', `no schedule ${req.params.id}`);
  }

  /** Publishes a schedule's events (acks=-1), caches the result, and returns it. */
  async function publish(events: readonly ScheduleEvent[], current: Schedule | null): Promise<Schedule> {
    await deps.publisher.publish(events);
    const next = foldScheduleEvents(events, current)!;
    await deps.cache.putNewer([next]).catch((err: unknown) => {
      deps.logger.warn('schedule cache write failed; reads will use MongoDB', { scheduleId: next.id, err });
    });
    return next;
  }

  /** Publishes what a command decides, caches the result, and returns it. */
  async function carryOut(command: ScheduleCommand, current: Schedule | null, id: string, tenantId: string) {
    const events = decideSchedule(command, current, { scheduleId: id, tenantId, source: 'producer', now: deps.now() });
    return events.length === 0 ? current! : publish(events, current);
  }

  /**
   * The schedule a repeated create stands for, as it is now. One not found may never have reached Kafka (the first
   * request failed, or its producer died, before the acknowledgement), or may still be on its way to the projection:
   * its `ScheduleCreated` is published again, with the same ids, which a schedule already in the log ignores.
   */
  async function replayCreation(tenantId: string, created: ScheduleEventOf<'ScheduleCreated'>): Promise<Schedule> {
    const found = await latest(tenantId, created.scheduleId);
    if (found?.status === 'deleted') {
      throw new JoblineError(
        'SCHEDULE_NOT_FOUND',
        `the schedule this Idempotency-Key created, ${created.scheduleId}, was deleted`,
      );
    }
    if (found) return found;
    deps.logger.info('publishing the schedule of a repeated idempotent request again', {
      tenantId,
      scheduleId: created.scheduleId,
    });
    return publish([created], null);
  }

  async function view(schedule: Schedule) {
    const now = deps.now().getTime();
    const fires = recentFires(schedule, now);
    const jobs = await Promise.all(fires.map((fire) => deps.reader.find(schedule.tenantId, fire.id)));
    const recent = fires.flatMap((fire, i) => {
      const job = jobs[i];
      return job ? [{ id: fire.id, fireAt: new Date(fire.fireAt).toISOString(), status: job.status }] : [];
    });
    return toScheduleView(schedule, now, recent);
  }

  route(router, SCHEDULES_PATH, createSchedule, async (req, res) => {
    const tenantId = tenantOf(req);
    const { definition, paused } = parseCreateSchedule(jsonBody(req), deps.limits, tenantId, deps.now());
    const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
    const ctx = { scheduleId: timeOrderedId(), tenantId, source: 'producer' as const, now: deps.now() };
    // CreateSchedule decides exactly one event, the schedule's ScheduleCreated.
    const [created] = decideSchedule({ type: 'CreateSchedule', definition, paused }, null, ctx) as [
      ScheduleEventOf<'ScheduleCreated'>,
    ];

    if (idempotencyKey !== null) {
      const claim = await deps.idempotency.claimSchedule(tenantId, idempotencyKey, hashRequest(req.body), created);
      if (claim.kind === 'replay') {
        const schedule = await replayCreation(tenantId, claim.event);
        res.set('Idempotent-Replayed', 'true');
        res
          .status(201)
          .location(`${req.baseUrl}/${schedule.id}`)
          .json(await view(schedule));
        return;
      }
    }

    // 201 promises the schedule is in the log: answer only after Kafka acknowledged it (acks=-1).
    const schedule = await publish([created], null);
    res.status(201).location(`${req.baseUrl}/${schedule.id}`).json(toScheduleView(schedule, deps.now().getTime()));
  });

  route(router, SCHEDULES_PATH, listSchedules, async (req, res) => {
    const query = ListSchedulesQuery.safeParse(req.query);
    if (!query.success) {
      throw new JoblineError('VALIDATION_FAILED', 'the query is invalid', { details: toFieldIssues(query.error) });
    }
    const { limit, cursor } = query.data;
    const docs = await deps.schedules
      .find({ tenantId: tenantOf(req), status: { $ne: 'deleted' }, ...(cursor ? { _id: { $gt: cursor } } : {}) })
      .sort({ _id: 1 })
      .limit(limit + 1)
      .toArray();
    const page = docs.slice(0, limit);
    const now = deps.now().getTime();
    res.json({
      items: page.map((doc) => toScheduleView(scheduleFromDocument(doc), now)),
      nextCursor: docs.length > limit ? page.at(-1)!._id : null,
    });
  });

  route(router, SCHEDULES_PATH, getSchedule, async (req, res) => {
    res.json(await view(await load(req)));
  });

  route(router, SCHEDULES_PATH, updateSchedule, async (req, res) => {
    const body = jsonBody(req);
    const current = await load(req);
    const { definition, paused } = parseUpdateSchedule(body, current, deps.limits, deps.now());
    const next = await carryOut({ type: 'ChangeSchedule', definition, paused }, current, current.id, current.tenantId);
    res.json(await view(next));
  });

  route(router, SCHEDULES_PATH, deleteSchedule, async (req, res) => {
    const current = await load(req);
    await carryOut({ type: 'DeleteSchedule' }, current, current.id, current.tenantId);
    res.status(204).end();
  });

  return router;
}
