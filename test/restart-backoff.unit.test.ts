import { DEFAULT_RESTART_POLICY as PRODUCER_WORKERS_POLICY } from '../producer/src/cluster/cluster-supervisor';
import { DEFAULT_RESTART_POLICY, decideRestart, type RestartPolicy } from '../scripts/restart-backoff.cjs';

describe('decideRestart (npm start restarting a service that exited)', () => {
  const policy: RestartPolicy = { baseDelayMs: 1000, maxDelayMs: 30_000, stableAfterMs: 30_000 };

  /** The waits for exits that each came `upForMs` after the service (re)started. */
  const waits = (upForMs: number[]) => {
    let failures = 0;
    return upForMs.map((up) => {
      const decision = decideRestart(failures, up, policy);
      failures = decision.failures;
      return decision.delayMs;
    });
  };

  it('waits the base delay after a first exit', () => {
    expect(decideRestart(0, 500, policy)).toEqual({ failures: 1, delayMs: 1000 });
  });

  it('doubles the wait for each exit soon after a start, up to the cap', () => {
    expect(waits([100, 100, 100, 100, 100, 100, 100, 100])).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000,
    ]);
  });

  it('starts afresh after a service stayed up for stableAfterMs', () => {
    expect(waits([100, 100, 100, 100, 30_000, 100])).toEqual([1000, 2000, 4000, 8000, 1000, 2000]);
    expect(waits([100, 100, 29_999])).toEqual([1000, 2000, 4000]);
  });

  it('stays at the cap however many failures came before', () => {
    expect(decideRestart(5000, 0, policy).delayMs).toBe(30_000);
  });

  it('restarts after a second by default, on the schedule of the producer restarting its workers', () => {
    expect(decideRestart(0, 0)).toEqual({ failures: 1, delayMs: 1000 });
    const { baseDelayMs, maxDelayMs, stableAfterMs } = PRODUCER_WORKERS_POLICY;
    expect(DEFAULT_RESTART_POLICY).toEqual({ baseDelayMs, maxDelayMs, stableAfterMs });
  });
});
