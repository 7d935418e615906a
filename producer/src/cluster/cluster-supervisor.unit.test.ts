import { availableParallelism } from 'node:os';
import { decideAfterExit, type ExitDecision, type SlotHistory } from './cluster-supervisor';
import { loadProducerConfig } from '../config';

const policy = { baseDelayMs: 1000, maxDelayMs: 8000, maxStartFailures: 3, stableAfterMs: 30_000 };
const fresh: SlotHistory = { failures: 0, startFailures: 0 };

/** Feeds a slot's exits one after another, as the supervisor does; `random` 1 gives the nominal delay. */
function exits(listenedForMs: (number | undefined)[], random = 1, from = fresh): ExitDecision[] {
  const decisions: ExitDecision[] = [];
  let history = from;
  for (const listened of listenedForMs) {
    const decision = decideAfterExit(history, listened, policy, random);
    decisions.push(decision);
    history = decision.history;
  }
  return decisions;
}

const delays = (decisions: ExitDecision[]) =>
  decisions.map((decision) => (decision.action === 'restart' ? decision.delayMs : decision.action));

describe('PRODUCER_WORKERS', () => {
  const workers = (value?: string) => loadProducerConfig({ PRODUCER_WORKERS: value }).PRODUCER_WORKERS;

  it('is 1 unless set: the API runs in the one process, without a cluster', () => {
    expect(workers()).toBe(1);
    expect(workers('')).toBe(1);
  });

  it('takes a number of workers, or auto for one per core', () => {
    expect(workers('4')).toBe(4);
    expect(workers('auto')).toBe(availableParallelism());
  });

  it.each(['0', '-2', '1.5', '257', 'two', 'AUTO'])('refuses %s, naming the variable', (value) => {
    expect(() => workers(value)).toThrow(/PRODUCER_WORKERS: expected `auto` or a whole number from 1 to 256/);
  });
});

describe('decideAfterExit', () => {
  it('restarts a worker that crashed after serving a while within the first backoff step', () => {
    expect(delays(exits([60_000], 1))).toEqual([1000]);
    expect(delays(exits([60_000], 0))).toEqual([500]);
  });

  it('doubles the wait while workers keep crashing soon after they started, up to the maximum', () => {
    expect(delays(exits([10, 10, 10, 10, 10, 10]))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('starts the backoff afresh once a worker has listened for stableAfterMs', () => {
    const [, , , afterStableRun] = exits([10, 10, 10, policy.stableAfterMs]);

    expect(afterStableRun).toEqual({ action: 'restart', delayMs: 1000, history: { failures: 1, startFailures: 0 } });
  });

  it('gives up when a slot fails to start maxStartFailures times in a row', () => {
    expect(delays(exits([undefined, undefined, undefined]))).toEqual([1000, 2000, 'give-up']);
  });

  it('counts only consecutive failed starts: a worker that listened, however briefly, resets them', () => {
    const decisions = exits([undefined, undefined, 5, undefined, undefined]);

    expect(decisions.map((decision) => decision.action)).toEqual(Array(5).fill('restart'));
    expect(decisions.at(-1)?.history).toEqual({ failures: 5, startFailures: 2 });
  });

  it('keeps restarting workers that crash after listening, however often', () => {
    const decisions = exits(Array(50).fill(100));

    expect(decisions.every((decision) => decision.action === 'restart')).toBe(true);
    expect(delays(decisions).at(-1)).toBe(policy.maxDelayMs);
  });
});
