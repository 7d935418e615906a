import { setTimeout as sleep } from 'node:timers/promises';
import { SleepPayload } from '@jobline/libs';
import type { JobHandler } from './job-handler';

const TICK_MS = 1000;

/** Waits `ms` milliseconds, reporting progress every second. For demos and benchmarks. */
export const sleepHandler: JobHandler = async (job, ctx) => {
  const { ms } = SleepPayload.parse(job.payload);
  const started = Date.now();
  let elapsed = 0;
  while (elapsed < ms) {
    await sleep(Math.min(TICK_MS, ms - elapsed), undefined, { signal: ctx.signal });
    elapsed = Date.now() - started;
    ctx.progress(Math.min(elapsed, ms), ms, null);
  }
  return { result: { sleptMs: elapsed } };
};
