import { TimedWaits, WaitEnded } from './timed-waits';

describe('TimedWaits', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves a wait after its time, and forgets it', async () => {
    const waits = new TimedWaits();
    let done = false;
    const wait = waits.wait(1000).then(() => (done = true));

    jest.advanceTimersByTime(999);
    await Promise.resolve();
    expect(done).toBe(false);
    jest.advanceTimersByTime(1);
    await wait;

    expect(done).toBe(true);
    expect(waits.size).toBe(0);
  });

  it('ends every wait under way at once, and every wait begun after', async () => {
    const waits = new TimedWaits();
    const under = Array.from({ length: 100_000 }, () => waits.wait(60_000));

    waits.endAll();

    await expect(Promise.all(under)).rejects.toBeInstanceOf(WaitEnded);
    for (const wait of under) await expect(wait).rejects.toBeInstanceOf(WaitEnded);
    await expect(waits.wait(1)).rejects.toBeInstanceOf(WaitEnded);
    expect(waits.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });
});
