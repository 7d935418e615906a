import { setTimeout as sleep } from 'node:timers/promises';
import {
  decide,
  evolve,
  foldEvents,
  isJoblineError,
  newEvent,
  type EventPublisher,
  type Job,
  type JobCommand,
  type JobErrorInfo,
  type JobEventOf,
  type Logger,
} from '@jobline/libs';
import type { JobHandler } from './handlers';

export interface ExecuteJobDeps {
  publisher: EventPublisher;
  handlers: Readonly<Record<string, JobHandler>>;
  runnerId: string;
  logger: Logger;
  now: () => Date;
  random: () => number;
  /** Aborted when the runner must give up its work (shutdown past the grace period). */
  stopSignal: AbortSignal;
  /** Minimum interval between two progress events of one job. @defaultValue 500 */
  progressIntervalMs?: number;
}

/** Raised when the runner stops before a job's outcome is in the log: the job is left for redelivery. */
export class WorkAbandoned extends Error {
  constructor(jobId: string) {
    super(`runner stopped before job ${jobId} finished; it will be redelivered`);
    this.name = 'WorkAbandoned';
  }
}

/**
 * Runs one attempt of a requested job: records its start, runs the handler, records the outcome. Returns once the
 * outcome is acknowledged by Kafka, which is what allows the caller to commit past the job's offset.
 */
export async function executeJob(requested: JobEventOf<'JobRequested'>, deps: ExecuteJobDeps): Promise<Job> {
  let job = evolve(null, requested)!;
  const attempt = job.attempts + 1;
  const logger = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, type: job.type, attempt });

  const record = async (command: JobCommand) => {
    const events = decide(command, job, { source: 'runner', now: deps.now(), random: deps.random() });
    await publishUntilAcknowledged(() => deps.publisher.publish(events), deps.stopSignal, logger, job.id);
    job = foldEvents(events, job)!;
  };

  await record({ type: 'StartAttempt', attempt, runnerId: deps.runnerId });
  const started = performance.now();
  const outcome = await runHandler(job, attempt, deps, logger);
  const ms = Math.round(performance.now() - started);
  if (outcome.ok) {
    await record({
      type: 'CompleteAttempt',
      attempt,
      result: outcome.result ?? null,
      resultUrl: outcome.resultUrl ?? null,
    });
    logger.debug('job completed', { ms });
  } else {
    await record({ type: 'FailAttempt', attempt, error: outcome.error });
    logger.info('job attempt failed', { ms, error: outcome.error });
  }
  return job;
}

type Outcome = { ok: true; result?: unknown; resultUrl?: string | null } | { ok: false; error: JobErrorInfo };

async function runHandler(job: Job, attempt: number, deps: ExecuteJobDeps, logger: Logger): Promise<Outcome> {
  const handler = deps.handlers[job.type];
  if (!handler) {
    return {
      ok: false,
      error: { code: 'UNKNOWN_JOB_TYPE', message: `no handler for type ${job.type}`, retryable: false },
    };
  }
  const signals = [deps.stopSignal];
  if (job.timeoutMs !== null) signals.push(AbortSignal.timeout(job.timeoutMs));
  const signal = AbortSignal.any(signals);
  const progress = throttledProgress(job, attempt, deps, logger);
  try {
    const result = await handler(job, { signal, idempotencyKey: job.id, attempt, progress, logger });
    return { ok: true, ...result };
  } catch (err) {
    if (deps.stopSignal.aborted) throw new WorkAbandoned(job.id);
    if (signal.aborted) {
      return {
        ok: false,
        error: { code: 'JOB_TIMED_OUT', message: `timed out after ${job.timeoutMs} ms`, retryable: true },
      };
    }
    return { ok: false, error: toErrorInfo(err) };
  }
}

/** Handler errors: a `JoblineError` says whether to retry; anything else is treated as transient. */
export function toErrorInfo(err: unknown): JobErrorInfo {
  if (isJoblineError(err)) return { code: err.code, message: err.message, retryable: err.retryable };
  if (err instanceof Error && err.name === 'ZodError') {
    return { code: 'VALIDATION_FAILED', message: err.message, retryable: false };
  }
  return { code: 'HANDLER_FAILED', message: err instanceof Error ? err.message : String(err), retryable: true };
}

function throttledProgress(job: Job, attempt: number, deps: ExecuteJobDeps, logger: Logger) {
  const interval = deps.progressIntervalMs ?? 500;
  let last = 0;
  return (current: number, total: number | null = null, message: string | null = null) => {
    const now = deps.now();
    if (now.getTime() - last < interval) return;
    last = now.getTime();
    const event = newEvent(
      'JobProgressed',
      { jobId: job.id, tenantId: job.tenantId, source: 'runner', now },
      { attempt, current, total, message },
    );
    deps.publisher
      .publish([event])
      .catch((err: unknown) => logger.warn('progress event not published', { err: String(err) }));
  };
}

/**
 * The outcome of work already done must reach the log; while Kafka is away, keep trying with backoff. Only a stop
 * of the runner gives up, leaving the job uncommitted so that it runs again elsewhere.
 */
async function publishUntilAcknowledged(
  publish: () => Promise<void>,
  stopSignal: AbortSignal,
  logger: Logger,
  jobId: string,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await publish();
      return;
    } catch (err) {
      if (stopSignal.aborted) throw new WorkAbandoned(jobId);
      const delay = Math.min(200 * 2 ** attempt, 5000);
      logger.warn('publishing job events failed; retrying', { attempt, delay, err: (err as Error).message });
      await sleep(delay, undefined, { signal: stopSignal }).catch(() => {
        throw new WorkAbandoned(jobId);
      });
    }
  }
}
