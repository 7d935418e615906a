import fc from 'fast-check';
import { OffsetTracker } from './offset-tracker';

function tracking(...offsets: number[]): OffsetTracker {
  const tracker = new OffsetTracker();
  for (const offset of offsets) tracker.track(offset);
  return tracker;
}

describe('OffsetTracker', () => {
  it('advances with each offset completed in log order', () => {
    const tracker = tracking(10, 11, 12);

    expect([10, 11, 12].map((o) => tracker.complete(o))).toEqual([10, 11, 12]);
  });

  it('holds back behind an unfinished offset, then jumps over everything done after it', () => {
    const tracker = tracking(10, 11, 12, 13);

    expect(tracker.complete(12)).toBeNull();
    expect(tracker.complete(11)).toBeNull();
    expect(tracker.complete(10)).toBe(12);
    expect(tracker.complete(13)).toBe(13);
  });

  it('follows the log order of offsets with gaps between them', () => {
    const tracker = tracking(5, 9, 40);

    expect(tracker.complete(40)).toBeNull();
    expect(tracker.complete(5)).toBe(5);
    expect(tracker.complete(9)).toBe(40);
  });

  it('keeps working for offsets tracked after earlier ones were committed', () => {
    const tracker = tracking(1, 2);
    tracker.complete(1);
    tracker.complete(2);
    tracker.track(3);
    tracker.track(4);

    expect(tracker.complete(4)).toBeNull();
    expect(tracker.complete(3)).toBe(4);
  });

  it('never lets the committable offset pass an unfinished one, whatever the completion order', () => {
    const logArb = fc
      .uniqueArray(fc.nat({ max: 10_000 }), { minLength: 1, maxLength: 40 })
      .map((offsets) => offsets.sort((a, b) => a - b))
      .chain((log) => fc.tuple(fc.constant(log), fc.shuffledSubarray(log, { minLength: log.length })));

    fc.assert(
      fc.property(logArb, ([log, completionOrder]) => {
        // given
        const tracker = tracking(...log);
        const done = new Set<number>();
        let committable: number | null = null;

        for (const offset of completionOrder) {
          // when
          done.add(offset);
          const moved = tracker.complete(offset);

          // then: the committable offset is the end of the longest fully done run at the start of the log
          const firstUnfinished = log.findIndex((o) => !done.has(o));
          const expected =
            firstUnfinished === 0 ? null : log[(firstUnfinished === -1 ? log.length : firstUnfinished) - 1]!;
          expect(moved).toBe(expected === committable ? null : expected);
          if (moved !== null) committable = moved;
          if (committable !== null && firstUnfinished !== -1) expect(committable).toBeLessThan(log[firstUnfinished]!);
        }
        expect(committable).toBe(log.at(-1));
      }),
    );
  });

  it('counts what it still tracks, and stays correct over long runs', () => {
    const tracker = new OffsetTracker();
    for (let offset = 0; offset < 5000; offset++) tracker.track(offset);
    expect(tracker.size).toBe(5000);

    for (let offset = 1; offset < 5000; offset++) expect(tracker.complete(offset)).toBeNull();
    expect(tracker.complete(0)).toBe(4999);
    expect(tracker.size).toBe(0);

    for (let offset = 5000; offset < 8000; offset++) tracker.track(offset);
    for (let offset = 5000; offset < 8000; offset++) expect(tracker.complete(offset)).toBe(offset);
    expect(tracker.size).toBe(0);
  });
});
