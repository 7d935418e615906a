import type { BackoffPolicy } from '../events/job-events';

export const DEFAULT_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 1000, maxDelayMs: 5 * 60_000 };

/** No retry waits longer than this, whatever the policy says: a week. */
export const MAX_BACKOFF_MS = 7 * 24 * 3_600_000;

/**
 * Delay before the attempt that follows `attempt` (1-based). Exponential policies double per attempt up to
 * `maxDelayMs` (and never past `MAX_BACKOFF_MS`). "Equal jitter": the delay is drawn from [d/2, d], so retries of jobs that failed together spread out
 * while none comes back sooner than half the nominal delay. `random` is a number in [0, 1), injected for tests.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: number): number {
  const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(base, policy.maxDelayMs ?? MAX_BACKOFF_MS, MAX_BACKOFF_MS);
  return Math.round(capped / 2 + (capped / 2) * random);
}
