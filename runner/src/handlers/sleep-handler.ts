import { setTimeout as sleep } from 'node:timers/promises';
import { JoblineError, SleepPayload } from '@jobline/libs';
import type { JobHandler } from './job-handler';

const TICK_MS = 1000;

/**
 * Waits `ms` milliseconds, reporting progress every second. For demos and benchmarks; with `failAttempts` (and
 * `fail`) its first attempts fail after the wait, to drive retries and dead letters from the API.
 */
export const sleepHandler: JobHandler = async (job, ctx) => {
  const { ms, failAttempts, fail } = SleepPayload.parse(job.payload);
  const started = Date.now();
  let elapsed = 0;
  while (elapsed < ms) {
    await sleep(Math.min(TICK_MS, ms - elapsed), undefined, { signal: ctx.signal });
    elapsed = Date.now() - started;
    ctx.progress(Math.min(elapsed, ms), ms, null);
  }
  const failing = failAttempts ?? (fail ? Infinity : 0);
  if (ctx.attempt <= failing) {
    throw new JoblineError(
      'HANDLER_FAILED',
      `sleep failed attempt ${ctx.attempt} on request (${fail ?? 'retryable'})`,
      {
        retryable: fail !== 'fatal',
      },
    );
  }
  return { result: { sleptMs: elapsed } };
};
