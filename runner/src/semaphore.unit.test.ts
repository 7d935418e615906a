import fc from 'fast-check';
import { Semaphore } from './semaphore';

/** Lets every already-resolved promise continuation run (no timers involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Starts `count` acquisitions and records, in order, which of them have been granted. */
function acquireMany(semaphore: Semaphore, count: number, granted: number[], firstId = 0): void {
  for (let id = firstId; id < firstId + count; id++) void semaphore.acquire().then(() => granted.push(id));
}

describe('Semaphore', () => {
  it('grants up to its size at once', async () => {
    const semaphore = new Semaphore(3);
    const granted: number[] = [];

    acquireMany(semaphore, 3, granted);
    await settle();

    expect(granted).toEqual([0, 1, 2]);
    expect(semaphore.inUse).toBe(3);
  });

  it('makes an acquisition beyond its size wait for a release', async () => {
    // given: both slots taken
    const semaphore = new Semaphore(2);
    const granted: number[] = [];
    acquireMany(semaphore, 3, granted);
    await settle();
    expect(granted).toEqual([0, 1]);

    // when
    semaphore.release();
    await settle();

    // then
    expect(granted).toEqual([0, 1, 2]);
    expect(semaphore.inUse).toBe(2);
  });

  it('wakes waiters in the order they started waiting', async () => {
    const semaphore = new Semaphore(1);
    const granted: number[] = [];
    acquireMany(semaphore, 5, granted);
    await settle();

    for (let i = 0; i < 4; i++) {
      semaphore.release();
      await settle();
    }

    expect(granted).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees a slot when released with nobody waiting', async () => {
    const semaphore = new Semaphore(2);
    const granted: number[] = [];
    acquireMany(semaphore, 2, granted);
    await settle();

    semaphore.release();

    expect(semaphore.inUse).toBe(1);
    acquireMany(semaphore, 1, granted, 2);
    await settle();
    expect(granted).toEqual([0, 1, 2]);
  });

  it('never has more than size holders, and grants in FIFO order, under any acquire/release sequence', async () => {
    const opsArb = fc.array(fc.constantFrom('acquire' as const, 'release' as const), { maxLength: 40 });

    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 4 }), opsArb, async (size, ops) => {
        const semaphore = new Semaphore(size);
        const granted: number[] = [];
        let requested = 0;
        let released = 0;

        for (const op of ops) {
          if (op === 'acquire') {
            acquireMany(semaphore, 1, granted, requested);
            requested += 1;
          } else if (granted.length > released) {
            // only a holder releases
            semaphore.release();
            released += 1;
          }
          await settle();

          const holders = granted.length - released;
          expect(holders).toBeLessThanOrEqual(size);
          expect(semaphore.inUse).toBe(holders);
          // FIFO: exactly the earliest requests are granted, as many as the slots allow
          const expectedGrants = Math.min(requested, size + released);
          expect(granted).toEqual(Array.from({ length: expectedGrants }, (_, id) => id));
        }
      }),
    );
  });
});
