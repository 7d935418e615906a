import fc from 'fast-check';
import type { BackoffPolicy } from '../events/job-events';
import { backoffDelayMs, DEFAULT_BACKOFF, MAX_BACKOFF_MS } from './backoff';

/** With random = 0 the delay is half the nominal one: the bottom of the jitter range [d/2, d]. */
const LOWEST = 0;
/** The largest double below 1: the delay is (within rounding) the nominal one. */
const HIGHEST = 1 - Number.EPSILON;

describe('backoffDelayMs', () => {
  it('keeps a fixed delay for every attempt', () => {
    const policy: BackoffPolicy = { type: 'fixed', delayMs: 1000 };

    expect([1, 2, 3, 10].map((attempt) => backoffDelayMs(attempt, policy, HIGHEST))).toEqual([1000, 1000, 1000, 1000]);
  });

  it('doubles an exponential delay with each attempt', () => {
    const policy: BackoffPolicy = { type: 'exponential', delayMs: 1000 };

    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelayMs(attempt, policy, HIGHEST))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
  });

  it('caps an exponential delay at maxDelayMs', () => {
    const policy: BackoffPolicy = { type: 'exponential', delayMs: 1000, maxDelayMs: 5000 };

    expect([3, 4, 5, 30].map((attempt) => backoffDelayMs(attempt, policy, HIGHEST))).toEqual([4000, 5000, 5000, 5000]);
  });

  it('caps a fixed delay at maxDelayMs', () => {
    expect(backoffDelayMs(1, { type: 'fixed', delayMs: 9000, maxDelayMs: 2000 }, HIGHEST)).toBe(2000);
  });

  it('treats attempts below 1 as the first attempt', () => {
    const policy: BackoffPolicy = { type: 'exponential', delayMs: 1000 };

    expect(backoffDelayMs(0, policy, HIGHEST)).toBe(1000);
    expect(backoffDelayMs(-3, policy, HIGHEST)).toBe(1000);
  });

  it('halves the delay at the bottom of the jitter range', () => {
    expect(backoffDelayMs(3, { type: 'exponential', delayMs: 1000 }, LOWEST)).toBe(2000);
    expect(backoffDelayMs(1, { type: 'fixed', delayMs: 1000 }, 0.5)).toBe(750);
  });

  it('has a default policy of exponential 1 s capped at 5 min', () => {
    expect(backoffDelayMs(1, DEFAULT_BACKOFF, HIGHEST)).toBe(1000);
    expect(backoffDelayMs(20, DEFAULT_BACKOFF, HIGHEST)).toBe(300_000);
  });

  const policyArb: fc.Arbitrary<BackoffPolicy> = fc.record(
    {
      type: fc.constantFrom('fixed' as const, 'exponential' as const),
      delayMs: fc.integer({ min: 0, max: 3_600_000 }),
      maxDelayMs: fc.integer({ min: 0, max: 86_400_000 }),
    },
    { requiredKeys: ['type', 'delayMs'] },
  );
  const attemptArb = fc.integer({ min: 1, max: 40 });
  const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

  /** The nominal delay as documented: fixed, or doubling from delayMs, then capped by the policy and by a week. */
  function nominal(attempt: number, policy: BackoffPolicy): number {
    const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** (attempt - 1);
    return Math.min(base, policy.maxDelayMs ?? Infinity, MAX_BACKOFF_MS);
  }

  it('draws a whole number of milliseconds within [d/2, d] of the nominal delay d', () => {
    fc.assert(
      fc.property(attemptArb, policyArb, randomArb, (attempt, policy, random) => {
        const d = nominal(attempt, policy);

        const delay = backoffDelayMs(attempt, policy, random);

        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(d / 2);
        expect(delay).toBeLessThanOrEqual(d);
      }),
    );
  });

  it('never shortens the delay when random grows', () => {
    fc.assert(
      fc.property(attemptArb, policyArb, randomArb, randomArb, (attempt, policy, r1, r2) => {
        const [low, high] = r1 <= r2 ? [r1, r2] : [r2, r1];

        expect(backoffDelayMs(attempt, policy, low)).toBeLessThanOrEqual(backoffDelayMs(attempt, policy, high));
      }),
    );
  });

  it('never shortens an exponential delay from one attempt to the next', () => {
    fc.assert(
      fc.property(attemptArb, policyArb, randomArb, (attempt, policy, random) => {
        const exponential: BackoffPolicy = { ...policy, type: 'exponential' };

        expect(backoffDelayMs(attempt, exponential, random)).toBeLessThanOrEqual(
          backoffDelayMs(attempt + 1, exponential, random),
        );
      }),
    );
  });
});
