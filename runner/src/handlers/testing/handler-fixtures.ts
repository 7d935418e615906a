import { JoblineError, createLogger, evolve, type Job } from '@jobline/libs';
import { aJobRequested } from '@jobline/libs/testing';
import type { HandlerContext } from '../job-handler';

const logger = createLogger({ service: 'test', level: 'error' });

/** A job as the runner receives it right after `JobRequested`: default options, a fresh id, attempt not yet made. */
export function requestedJob(
  type: string,
  payload: unknown,
  { tenantId = 'acme', now = new Date() }: { tenantId?: string; now?: Date } = {},
): Job {
  const requested = aJobRequested({ tenantId, now, type, payload, maxAttempts: 3 });
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
