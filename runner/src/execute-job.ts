import { setTimeout as sleep } from 'node:timers/promises';
import {
  deadLetterOf,
  decide,
  foldEvents,
  isJoblineError,
  newEvent,
  type EventPublisher,
  type DeadLetter,
  type Job,
  type JobCommand,
  type JobErrorInfo,
  type JobEvent,
  type Logger,
} from '@jobline/libs';
import type { JobHandler } from './handlers';
import type { RunnerMetrics } from './runner-metrics';

export interface ExecuteJobDeps {
  publisher: EventPublisher;
  handlers: Readonly<Record<string, JobHandler>>;
  runnerId: string;
  logger: Logger;
  now: () => Date;
  random: () => number;
  /** Aborted when the runner must give up its work (shutdown past the grace period). */
  stopSignal: AbortSignal;
  /** Running attempts by job id, so that a cancellation can abort them. */
  running: Map<string, AbortController>;
  /** Writes a dead letter to `jobline.job-dlq`; resolves once Kafka acknowledged it. */
  deadLetter: (letter: DeadLetter) => Promise<void>;
  /** Minimum interval between two progress events of one job. @defaultValue 500 */
  progressIntervalMs?: number;
  metrics?: RunnerMetrics;
}

/** Raised when the runner stops before a job's outcome is in the log: the job is left for redelivery. */
export class WorkAbandoned extends Error {
  constructor(jobId: string) {
    super(`runner stopped before job ${jobId} finished; it will be redelivered`);
    this.name = 'WorkAbandoned';
  }
}

/** The state after an attempt, and when the next one is due (null: none, the job is finished). */
export interface AttemptOutcome {
  job: Job;
  retryAt: string | null;
}

/**
 * Runs one attempt of a job: records its start, runs the handler, records the outcome (and, for a job that failed
 * for good, its dead letter). Returns once all of that is acknowledged by Kafka, which is what allows the caller to
 * commit past the message that asked for the attempt.
 *
 * The handler does not wait for Kafka to acknowledge the start: a handler that finishes within the same turn of the
 * event loop has its start and its outcome sent in one produce request, behind one another. Execution is
 * at-least-once either way: a runner that dies before the outcome is acknowledged leaves the attempt to run again.
 */
export async function executeAttempt(initial: Job, attempt: number, deps: ExecuteJobDeps): Promise<AttemptOutcome> {
  let job = initial;
  const logger = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, type: job.type, attempt });
  let recorded: JobEvent[] = [];
  const publish = (events: JobEvent[]) =>
    publishUntilAcknowledged(() => deps.publisher.publish(events), deps.stopSignal, logger, job.id);

  const startEvents = decide({ type: 'StartAttempt', attempt, runnerId: deps.runnerId }, job, {
    source: 'runner',
    now: deps.now(),
    random: deps.random(),
  });
  job = foldEvents(startEvents, job)!;
  const startRecorded = publish(startEvents);
  // Awaited below, after the handler; a failure before then must not count as unhandled.
  startRecorded.catch(() => undefined);

  const record = async (command: JobCommand) => {
    recorded = decide(command, job, { source: 'runner', now: deps.now(), random: deps.random() });
    // Queued right behind the start, so that both go out together when the handler was quick.
    const outcomeRecorded = publish(recorded);
    outcomeRecorded.catch(() => undefined);
    await startRecorded;
    await outcomeRecorded;
    job = foldEvents(recorded, job)!;
  };

  const started = performance.now();
  const cancel = new AbortController();
  deps.running.set(job.id, cancel);
  let outcome: Outcome;
  try {
    outcome = await runHandler(job, attempt, cancel.signal, deps);
  } finally {
    deps.running.delete(job.id);
  }
  const ms = Math.round(performance.now() - started);
  switch (outcome.kind) {
    case 'completed':
      await record({
        type: 'CompleteAttempt',
        attempt,
        result: outcome.result ?? null,
        resultUrl: outcome.resultUrl ?? null,
      });
      deps.metrics?.attemptRecorded(job.type, 'completed', ms / 1000, 'completed');
      logger.debug('job completed', { ms });
      return { job, retryAt: null };
    case 'cancelled':
      await record({ type: 'CancelAttempt', attempt, reason: 'cancelled while running' });
      deps.metrics?.attemptRecorded(job.type, 'cancelled', ms / 1000, 'cancelled');
      logger.info('job cancelled while running', { ms });
      return { job, retryAt: null };
    case 'failed': {
      await record({ type: 'FailAttempt', attempt, error: outcome.error, retryAfterMs: outcome.retryAfterMs });
      const failed = recorded.find((e) => e.type === 'JobAttemptFailed');
      const retryAt = failed?.type === 'JobAttemptFailed' ? failed.data.nextRunAt : null;
      if (recorded.some((e) => e.type === 'JobDeadLettered')) {
        const letter = deadLetterOf(job, outcome.error, deps.now());
        await publishUntilAcknowledged(() => deps.deadLetter(letter), deps.stopSignal, logger, job.id);
        deps.metrics?.attemptRecorded(job.type, 'failed', ms / 1000, 'failed');
        logger.warn('job failed for good; dead-lettered', { ms, error: outcome.error });
      } else {
        deps.metrics?.attemptRecorded(job.type, 'failed', ms / 1000, null);
        logger.info('job attempt failed; retry scheduled', { ms, error: outcome.error, retryAt });
      }
      return { job, retryAt };
    }
  }
}

type Outcome =
  | { kind: 'completed'; result?: unknown; resultUrl?: string | null }
  /** `retryAfterMs`: the least wait before the next attempt that the handler's error asked for. */
  | { kind: 'failed'; error: JobErrorInfo; retryAfterMs?: number }
  | { kind: 'cancelled' };

async function runHandler(
  job: Job,
  attempt: number,
  cancelSignal: AbortSignal,
  deps: ExecuteJobDeps,
): Promise<Outcome> {
  const handler = deps.handlers[job.type];
  if (!handler) {
    return {
      kind: 'failed',
      error: { code: 'UNKNOWN_JOB_TYPE', message: `no handler for type ${job.type}`, retryable: false },
    };
  }
  const timeoutSignal = job.timeoutMs !== null ? AbortSignal.timeout(job.timeoutMs) : null;
  const signal = AbortSignal.any([deps.stopSignal, cancelSignal, ...(timeoutSignal ? [timeoutSignal] : [])]);
  const logger = deps.logger.child({ jobId: job.id, tenantId: job.tenantId, type: job.type, attempt });
  const progress = throttledProgress(job, attempt, deps, logger);
  try {
    const result = await handler(job, { signal, idempotencyKey: job.id, attempt, progress, logger });
    return { kind: 'completed', ...result };
  } catch (err) {
    if (deps.stopSignal.aborted) throw new WorkAbandoned(job.id);
    if (cancelSignal.aborted) return { kind: 'cancelled' };
    if (timeoutSignal?.aborted) {
      return {
        kind: 'failed',
        error: { code: 'JOB_TIMED_OUT', message: `timed out after ${job.timeoutMs} ms`, retryable: true },
      };
    }
    return {
      kind: 'failed',
      error: toErrorInfo(err),
      retryAfterMs: isJoblineError(err) ? err.retryAfterMs : undefined,
    };
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
export async function publishUntilAcknowledged(
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
