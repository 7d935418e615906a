import type { Request, Response } from 'express';
import {
  evolve,
  toJobView,
  type EventPublisher,
  type JobCache,
  type JobEventOf,
  type JobView,
  type Logger,
  timeOrderedId,
} from '@jobline/libs';
import { tenantOf } from '../auth/auth';
import { jobRequestedEvent, parseIdempotencyKey, type CreateJobRequest } from './create-job-request';
import { hashRequest, type IdempotencyStore } from './idempotency';
import type { JobReader } from './job-reader';
import type { ProducerMetrics } from '../http/request-telemetry';

export interface JobAcceptorDeps {
  publisher: EventPublisher;
  cache: JobCache;
  reader: JobReader;
  logger: Logger;
  now: () => Date;
  idempotency: IdempotencyStore;
  metrics?: ProducerMetrics;
}

/**
 * Accepts validated job requests for every route that creates jobs (`/v1/jobs`, `/v1/jobs/batch`, `/v1/timers`,
 * imports, exports): claims the request's Idempotency-Key for all of them, publishes their JobRequested events in one
 * call and caches their views. Resolves to the views in request order; a repeated request gets those of the jobs its
 * key stands for (and `Idempotent-Replayed: true`).
 *
 * A failure to publish (`KAFKA_UNAVAILABLE`) leaves the outcome open: Kafka may still take the events after the
 * timeout. Whatever a request stored for its jobs (an upload) must then outlive the failure.
 */
export type AcceptJobs = (
  req: Request,
  res: Response,
  requests: readonly CreateJobRequest[],
  /** Ids the caller assigned already, one per request; new UUIDs otherwise. */
  jobIds?: readonly string[],
) => Promise<JobView[]>;

export function jobAcceptor(deps: JobAcceptorDeps): AcceptJobs {
  /** Publishes the events (acks=-1) and caches the views of the jobs they create. */
  async function publish(tenantId: string, events: readonly JobEventOf<'JobRequested'>[]): Promise<JobView[]> {
    await deps.publisher.publish(events);
    const views = events.map((event) => toJobView(evolve(null, event)!));
    await Promise.all(
      views.map((view) =>
        deps.cache
          .putIfAbsent({ tenantId, view })
          .catch((err: unknown) =>
            deps.logger.warn('job cache write failed; reads will use MongoDB', { jobId: view.id, err }),
          ),
      ),
    );
    return views;
  }

  /**
   * The jobs a repeated request stands for. One not found may never have reached Kafka (its first request failed, or
   * its producer died, before the acknowledgement), or may still be on its way: its event is published again, under
   * the same ids, which a job already in the log ignores.
   */
  async function replay(
    tenantId: string,
    jobIds: readonly string[],
    claimed: readonly JobEventOf<'JobRequested'>[],
  ): Promise<JobView[]> {
    const found = await Promise.all(jobIds.map((id) => deps.reader.find(tenantId, id)));
    const missing = claimed.filter((_, i) => found[i] === null);
    if (missing.length === 0) return found as JobView[];
    deps.logger.info('publishing the jobs of a repeated idempotent request again', {
      tenantId,
      jobIds: missing.map((e) => e.jobId),
    });
    const published = new Map((await publish(tenantId, missing)).map((view) => [view.id, view]));
    return found.map((view, i) => view ?? published.get(jobIds[i]!)!);
  }

  return async (req, res, requests, jobIds = requests.map(() => timeOrderedId())) => {
    const tenantId = tenantOf(req);
    const idempotencyKey = parseIdempotencyKey(req.get('Idempotency-Key'));
    const now = deps.now();
    const events = requests.map((request, i) => jobRequestedEvent(request, tenantId, now, idempotencyKey, jobIds[i]));

    if (idempotencyKey !== null) {
      const claim = await deps.idempotency.claim(tenantId, idempotencyKey, hashRequest(req.body), events);
      if (claim.kind === 'replay') {
        res.set('Idempotent-Replayed', 'true');
        // A claim that kept no events: the same request (by its hash) builds the same jobs, under the claimed ids.
        const claimed = claim.events ?? events.map((event, i) => ({ ...event, jobId: claim.jobIds[i]! }));
        return replay(tenantId, claim.jobIds, claimed);
      }
    }

    // 202 promises the jobs are in the log: answer only after Kafka acknowledged them (acks=-1).
    const views = await publish(tenantId, events);
    for (const request of requests) deps.metrics?.jobsCreated.inc({ type: request.type });
    deps.logger.debug('jobs accepted', { tenantId, jobIds: views.map((v) => v.id) });
    return views;
  };
}
