import fc from 'fast-check';
import { DELAY_TIERS_MS, routeTimer, tierLabel } from './delay-tiers';

const NOW = 1_800_000_000_000;

describe('routeTimer', () => {
  it('runs a timer that is due or overdue', () => {
    expect(routeTimer(NOW, NOW)).toEqual({ kind: 'run' });
    expect(routeTimer(NOW - 60_000, NOW)).toEqual({ kind: 'run' });
  });

  it('waits in memory for what is due within the smallest tier', () => {
    expect(routeTimer(NOW + 1, NOW)).toEqual({ kind: 'wait', ms: 1 });
    expect(routeTimer(NOW + 4999, NOW)).toEqual({ kind: 'wait', ms: 4999 });
  });

  it('holds anything later in the largest tier that does not overshoot', () => {
    expect(routeTimer(NOW + 5000, NOW)).toEqual({ kind: 'delay', tierMs: 5000 });
    expect(routeTimer(NOW + 29_999, NOW)).toEqual({ kind: 'delay', tierMs: 5000 });
    expect(routeTimer(NOW + 30_000, NOW)).toEqual({ kind: 'delay', tierMs: 30_000 });
    expect(routeTimer(NOW + 90 * 60_000, NOW)).toEqual({ kind: 'delay', tierMs: 3_600_000 });
    expect(routeTimer(NOW + 300 * 24 * 3_600_000, NOW)).toEqual({ kind: 'delay', tierMs: 21_600_000 });
  });

  it('never holds a timer past its due time, and always gets closer to it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 * 24 * 3_600_000 }), (ahead) => {
        const route = routeTimer(NOW + ahead, NOW);

        if (route.kind === 'delay') {
          expect(route.tierMs).toBeLessThanOrEqual(ahead);
          expect(DELAY_TIERS_MS).toContain(route.tierMs);
        } else {
          expect(route).toEqual({ kind: 'wait', ms: ahead });
          expect(ahead).toBeLessThan(DELAY_TIERS_MS[0]);
        }
      }),
    );
  });

  it('reaches a due timer in a bounded number of hops', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 366 * 24 * 3_600_000 }), (ahead) => {
        let now = NOW;
        let hops = 0;
        for (let route = routeTimer(NOW + ahead, now); route.kind === 'delay'; route = routeTimer(NOW + ahead, now)) {
          now += route.tierMs;
          hops += 1;
        }
        // a year ahead is at most ~1464 six-hour hops, plus a handful of smaller ones
        expect(hops).toBeLessThan(1500);
        expect(now).toBeLessThanOrEqual(NOW + ahead);
      }),
      { numRuns: 200 },
    );
  });
});

describe('tierLabel', () => {
  it('names each tier for its topic', () => {
    expect(DELAY_TIERS_MS.map(tierLabel)).toEqual(['5s', '30s', '2m', '10m', '1h', '6h']);
  });
});
