import { randomUUID } from 'node:crypto';
import { DEFAULT_BACKOFF, JoblineError, createLogger, evolve, newEvent, type Job } from '@jobline/libs';
import type { HandlerContext } from '../job-handler';

const logger = createLogger({ service: 'test', level: 'error' });

/** A job as the runner receives it right after `JobRequested`: default options, a fresh id, attempt not yet made. */
export function requestedJob(
  type: string,
  payload: unknown,
  { tenantId = 'acme', now = new Date() }: { tenantId?: string; now?: Date } = {},
): Job {
  const requested = newEvent(
    'JobRequested',
    { jobId: randomUUID(), tenantId, source: 'producer', now },
    {
      type,
      payload,
      runAt: null,
      maxAttempts: 3,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      callbackUrl: null,
      notify: null,
      metadata: {},
      idempotencyKey: null,
    },
  );
  return evolve(null, requested)!;
}

/** What the runner hands a handler on a first attempt that nobody cancels, with any part replaced. */
export function handlerContext(overrides: Partial<HandlerContext> = {}): HandlerContext {
  return {
    signal: new AbortController().signal,
    idempotencyKey: 'job-key-1',
    attempt: 1,
    progress: () => undefined,
    logger,
    ...overrides,
  };
}

/** The JoblineError a handler rejects with; anything else, or no rejection, fails the test. */
export async function jobFailure(promise: Promise<unknown>): Promise<JoblineError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof JoblineError) return err;
    throw err;
  }
  throw new Error('expected the job to fail');
}
