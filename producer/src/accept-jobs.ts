import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import {
  JoblineError,
  evolve,
  toJobView,
  type EventPublisher,
  type JobCache,
  type JobView,
  type Logger,
  timeOrderedId,
} from '@jobline/libs';
import { tenantOf } from './auth';
import { jobRequestedEvent, parseIdempotencyKey, type CreateJobRequest } from './create-job-request';
import { hashRequest, type IdempotencyStore } from './idempotency';
import type { JobReader } from './job-reader';
import type { ProducerMetrics } from './request-telemetry';

export interface JobAcceptorDeps {
  publisher: EventPublisher;
  cache: JobCache;
  reader: JobReader;
  logger: Logger;
  now: () => Date;
  idempotency: IdempotencyStore;
  /** How long a duplicate request waits for the first one with its key to be accepted. */
  replayWaitMs: number;
  metrics?: ProducerMetrics;
}

/**
 * Accepts validated job requests for every route that creates jobs (`/v1/jobs`, `/v1/jobs/batch`, `/v1/timers`):
 * claims the request's Idempotency-Key for all of them, publishes their JobRequested events in one call and caches
 * their views. Resolves to the views in request order; a repeated request gets those of the jobs its first use
 * created (and `Idempotent-Replayed: true`).
 */
export type AcceptJobs = (
  req: Request,
  res: Response,
  requests: readonly CreateJobRequest[],
  /** Ids the caller assigned already, one per request; new UUIDs otherwise. */
  jobIds?: readonly string[],
) => Promise<JobView[]>;

export function jobAcceptor(deps: JobAcceptorDeps): AcceptJobs {
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

  return async (req, res, requests, jobIds = requests.map(() => timeOrderedId())) => {
    const tenantId = tenantOf(req);
    const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
    const now = deps.now();
    const events = requests.map((request, i) => jobRequestedEvent(request, tenantId, now, idempotencyKey, jobIds[i]));

    let release = async () => {};
    if (idempotencyKey !== null) {
      const ids = events.map((e) => e.jobId);
      const claim = await deps.idempotency.claim(tenantId, idempotencyKey, hashRequest(req.body), ids);
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
  };
}
