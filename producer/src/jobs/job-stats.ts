import type { RequestHandler } from 'express';
import type { Collection, Document } from 'mongodb';
import { z } from 'zod';
import { JOB_STATUSES, JoblineError, type JobDocument, type JobStatus } from '@jobline/libs';
import { json, named, operation } from '../http/api-operation';
import { tenantOf } from '../auth/auth';
import { queryIssues } from './list-jobs-query';

/** Statuses counted over every job of the tenant: the work not done yet, and the dead letters waiting for a redrive. */
const OPEN_STATUSES = ['pending', 'scheduled', 'processing', 'failed'] as const satisfies readonly JobStatus[];
/** A discarded job finished when it failed: it stays counted there, as `discarded`, and in the throughput as failed. */
const FINISHED_STATUSES = ['completed', 'failed', 'cancelled', 'discarded'] as const satisfies readonly JobStatus[];
const DEFAULT_WINDOW_MS = 3600_000;
const MAX_WINDOW_MS = 7 * 86_400_000;
export const MAX_BUCKETS = 1440;

const Instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

export const JobStatsQuery = z
  .object({
    since: Instant.optional().describe(
      'start of the window (ISO 8601 with offset); one hour ago if left out, at most seven days ago',
    ),
    bucketSeconds: z.coerce
      .number()
      .int()
      .min(10)
      .max(86_400)
      .default(60)
      .describe(`width of each throughput bucket; at most ${MAX_BUCKETS} buckets in the window`),
  })
  .strict();

const Count = z.object({ type: z.string(), status: z.enum(JOB_STATUSES), count: z.number().int().min(0) });

export const JobStats = named(
  'JobStats',
  z.object({
    tenantId: z.string().describe('the tenant of the token'),
    since: z.string().describe('start of the window (inclusive)'),
    until: z.string().describe('end of the window (exclusive): the moment of the answer'),
    bucketSeconds: z.number().int(),
    current: z
      .array(Count)
      .describe('every job now pending, scheduled, processing or failed (a dead letter waits there until redriven)'),
    finished: z
      .array(Count)
      .describe(
        'the jobs that completed, failed or were cancelled in the window (a failed job discarded since counts as discarded)',
      ),
    deadLetters: z
      .array(
        z.object({
          type: z.string(),
          code: z.string().describe('the last error’s code; `none` for a job dead-lettered without one'),
          count: z.number().int().min(0),
        }),
      )
      .describe('the failed jobs, by type and last error code, most first'),
    throughput: z
      .array(
        z.object({
          start: z.string().describe('start of the bucket'),
          completed: z.number().int().min(0),
          failed: z.number().int().min(0).describe('discarded ones included'),
          cancelled: z.number().int().min(0),
        }),
      )
      .describe('jobs that finished, per bucket of the window, oldest first; empty buckets included'),
    runners: z
      .array(z.object({ runnerId: z.string(), processing: z.number().int().min(1) }))
      .describe('the runners running the tenant’s jobs now, each with how many of them, most first'),
  }),
);
export type JobStats = z.infer<typeof JobStats>;

export const getJobStats = operation('get', '/v1/stats', {
  operationId: 'getJobStats',
  summary: 'Counts of the tenant’s jobs by type and status, and their throughput over time',
  description:
    'What the dashboard’s overview shows. The open jobs (pending, scheduled, processing, failed) are counted whole; ' +
    'the finished ones over the window, from an index on the finish time, so that the cost follows the work in the ' +
    'window and the backlog, not every job ever run.',
  tags: ['jobs'],
  query: JobStatsQuery,
  responses: { '200': { description: 'the figures', ...json(JobStats) } },
  errors: ['VALIDATION_FAILED', 'DEPENDENCY_UNAVAILABLE'],
});

export interface StatsWindow {
  since: Date;
  until: Date;
  bucketMs: number;
}

type OpenGroup = { _id: { type: string; status: JobStatus }; count: number };
type DeadLetterGroup = { _id: { type: string; code: string | null }; count: number };
type FinishedGroup = { _id: { type: string; status: JobStatus; bucket: number }; count: number };
type RunnerGroup = { _id: string | null; count: number };

/**
 * The figures of `GET /v1/stats`, as three aggregations on the `jobs` projection:
 * - open jobs through the `{tenantId, status, …}` index, so that only the backlog and the dead letters are read
 *   (the jobs processing now also name their runners);
 * - finished jobs through `{tenantId, finishedAt, status, type}`, which covers the query: the window's index keys
 *   alone, no document. Buckets are computed from the instant (`$toDate`), which MongoDB and the local stack's
 *   document store both evaluate.
 */
export async function readJobStats(
  jobs: Collection<JobDocument>,
  tenantId: string,
  window: StatsWindow,
): Promise<Omit<JobStats, 'tenantId'>> {
  const { since, until, bucketMs } = window;
  const [open, deadLetters, running, finished] = await Promise.all([
    jobs
      .aggregate<OpenGroup>([
        { $match: { tenantId, status: { $in: [...OPEN_STATUSES] } } },
        { $group: { _id: { type: '$type', status: '$status' }, count: { $sum: 1 } } },
      ])
      .toArray(),
    jobs
      .aggregate<DeadLetterGroup>([
        { $match: { tenantId, status: 'failed' } },
        { $group: { _id: { type: '$type', code: '$error.code' }, count: { $sum: 1 } } },
      ])
      .toArray(),
    jobs
      .aggregate<RunnerGroup>([
        { $match: { tenantId, status: 'processing' } },
        { $group: { _id: '$runnerId', count: { $sum: 1 } } },
      ])
      .toArray(),
    jobs
      .aggregate<FinishedGroup>([
        {
          $match: {
            tenantId,
            finishedAt: { $gte: since.toISOString(), $lt: until.toISOString() },
            status: { $in: [...FINISHED_STATUSES] },
          },
        },
        {
          $group: {
            _id: {
              type: '$type',
              status: '$status',
              bucket: {
                $floor: {
                  $divide: [{ $subtract: [{ $toLong: { $toDate: '$finishedAt' } }, since.getTime()] }, bucketMs],
                },
              },
            },
            count: { $sum: 1 },
          },
        },
      ] satisfies Document[])
      .toArray(),
  ]);

  const buckets = Math.max(1, Math.ceil((until.getTime() - since.getTime()) / bucketMs));
  const throughput = Array.from({ length: buckets }, (_, i) => ({
    start: new Date(since.getTime() + i * bucketMs).toISOString(),
    completed: 0,
    failed: 0,
    cancelled: 0,
  }));
  const finishedCounts = new Map<string, { type: string; status: JobStatus; count: number }>();
  for (const { _id, count } of finished) {
    const bucket = throughput[Math.min(buckets - 1, Math.max(0, _id.bucket))]!;
    if (_id.status === 'discarded') bucket.failed += count;
    else if (_id.status === 'completed' || _id.status === 'failed' || _id.status === 'cancelled')
      bucket[_id.status] += count;
    const key = `${_id.type}\0${_id.status}`;
    const entry = finishedCounts.get(key) ?? { type: _id.type, status: _id.status, count: 0 };
    entry.count += count;
    finishedCounts.set(key, entry);
  }
  const byTypeAndStatus = (a: { type: string; status: JobStatus }, b: { type: string; status: JobStatus }) =>
    a.type.localeCompare(b.type) || JOB_STATUSES.indexOf(a.status) - JOB_STATUSES.indexOf(b.status);

  return {
    since: since.toISOString(),
    until: until.toISOString(),
    bucketSeconds: bucketMs / 1000,
    current: open.map(({ _id, count }) => ({ type: _id.type, status: _id.status, count })).sort(byTypeAndStatus),
    finished: [...finishedCounts.values()].sort(byTypeAndStatus),
    deadLetters: deadLetters
      .map(({ _id, count }) => ({ type: _id.type, code: _id.code ?? 'none', count }))
      .sort((a, b) => b.count - a.count || a.type.localeCompare(b.type) || a.code.localeCompare(b.code)),
    throughput,
    runners: running
      .flatMap(({ _id, count }) => (_id === null ? [] : [{ runnerId: _id, processing: count }]))
      .sort((a, b) => b.processing - a.processing || a.runnerId.localeCompare(b.runnerId)),
  };
}

/** Validates the query against the clock: the window ends now and may not reach further back than seven days. */
export function parseStatsWindow(raw: Record<string, unknown>, now: Date): StatsWindow {
  const parsed = JobStatsQuery.safeParse(raw);
  if (!parsed.success) {
    throw new JoblineError('VALIDATION_FAILED', 'the query is invalid', { details: queryIssues(parsed.error) });
  }
  const since = parsed.data.since ?? new Date(now.getTime() - DEFAULT_WINDOW_MS);
  const bucketMs = parsed.data.bucketSeconds * 1000;
  const issue = (field: string, message: string) =>
    new JoblineError('VALIDATION_FAILED', 'the query is invalid', {
      details: [{ field, code: 'out_of_range', message }],
    });
  if (since.getTime() >= now.getTime()) throw issue('since', 'must be in the past');
  if (now.getTime() - since.getTime() > MAX_WINDOW_MS) throw issue('since', 'at most seven days ago');
  if ((now.getTime() - since.getTime()) / bucketMs > MAX_BUCKETS) {
    throw issue('bucketSeconds', `the window would have more than ${MAX_BUCKETS} buckets; choose wider ones`);
  }
  return { since, until: now, bucketMs };
}

/** Where the figures come from: `readJobStats` on the projection. */
export type JobStatsSource = (tenantId: string, window: StatsWindow) => Promise<Omit<JobStats, 'tenantId'>>;

/** `GET /v1/stats`. */
export function jobStatsRoute(deps: { stats?: JobStatsSource; now: () => Date }): RequestHandler {
  return async (req, res) => {
    const tenantId = tenantOf(req);
    const window = parseStatsWindow(req.query, deps.now());
    if (!deps.stats) throw new JoblineError('DEPENDENCY_UNAVAILABLE', 'this instance has no job figures');
    const stats = await deps.stats(tenantId, window);
    res.set('Cache-Control', 'no-store').json({ tenantId, ...stats } satisfies JobStats);
  };
}
