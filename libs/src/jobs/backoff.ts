import type { BackoffPolicy } from '../events/job-events';

export const DEFAULT_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 1000, maxDelayMs: 5 * 60_000 };

/**
 * Delay before the attempt that follows `attempt` (1-based). Exponential policies double per attempt up to
 * `maxDelayMs`. "Equal jitter": the delay is drawn from [d/2, d], so retries of jobs that failed together spread out
 * while none comes back sooner than half the nominal delay. `random` is a number in [0, 1), injected for tests.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: number): number {
  const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, attempt - 1);
  const capped = policy.maxDelayMs === undefined ? base : Math.min(base, policy.maxDelayMs);
  return Math.round(capped / 2 + (capped / 2) * random);
}
