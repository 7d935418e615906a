import fc from 'fast-check';
import { checkTrigger, fireTimesAfter, fireTimesUpTo, type ScheduleTiming } from './fire-times';

const at = (iso: string) => Date.parse(iso);
const iso = (times: number[]) => times.map((t) => new Date(t).toISOString());
const cron = (expression: string, timeZone = 'UTC', bounds: Partial<ScheduleTiming> = {}): ScheduleTiming => ({
  trigger: { kind: 'cron', expression, timeZone },
  startAt: null,
  endAt: null,
  anchorAt: '2026-01-01T00:00:00.000Z',
  ...bounds,
});
const every = (everyMs: number, bounds: Partial<ScheduleTiming> = {}): ScheduleTiming => ({
  trigger: { kind: 'interval', everyMs },
  startAt: null,
  endAt: null,
  anchorAt: '2026-01-01T00:00:00.250Z',
  ...bounds,
});

describe('fireTimesAfter', () => {
  it('reads a 6-field expression with seconds first, strictly after the reference', () => {
    expect(iso(fireTimesAfter(cron('*/2 * * * * *'), at('2026-01-01T00:00:02.000Z'), 3))).toEqual([
      '2026-01-01T00:00:04.000Z',
      '2026-01-01T00:00:06.000Z',
      '2026-01-01T00:00:08.000Z',
    ]);
  });

  it('reads a 5-field expression in its time zone', () => {
    expect(iso(fireTimesAfter(cron('0 9 * * 1', 'America/New_York'), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2026-01-05T14:00:00.000Z',
      '2026-01-12T14:00:00.000Z',
    ]);
  });

  it('fires a fixed time that daylight saving skips at the first valid time after it, the same day', () => {
    // Berlin skips 02:00–03:00 on 29 March 2026: 02:30 does not exist that day.
    expect(iso(fireTimesAfter(cron('30 2 * * *', 'Europe/Berlin'), at('2026-03-27T12:00:00Z'), 3))).toEqual([
      '2026-03-28T01:30:00.000Z',
      '2026-03-29T01:00:00.000Z',
      '2026-03-30T00:30:00.000Z',
    ]);
  });

  it('fires a fixed time that daylight saving repeats once, at its first occurrence', () => {
    // Berlin repeats 02:00–03:00 on 25 October 2026.
    expect(iso(fireTimesAfter(cron('30 2 * * *', 'Europe/Berlin'), at('2026-10-24T12:00:00Z'), 2))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-26T01:30:00.000Z',
    ]);
  });

  it('keeps to [startAt, endAt)', () => {
    const bounded = cron('* * * * * *', 'UTC', {
      startAt: '2026-01-01T00:00:10.000Z',
      endAt: '2026-01-01T00:00:13.000Z',
    });
    expect(iso(fireTimesAfter(bounded, at('2026-01-01T00:00:00Z'), 10))).toEqual([
      '2026-01-01T00:00:10.000Z',
      '2026-01-01T00:00:11.000Z',
      '2026-01-01T00:00:12.000Z',
    ]);
  });

  it('counts an interval from startAt, or else from when its trigger was set', () => {
    expect(iso(fireTimesAfter(every(1500), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2026-01-01T00:00:00.250Z',
      '2026-01-01T00:00:01.750Z',
    ]);
    expect(
      iso(fireTimesAfter(every(60_000, { startAt: '2026-01-01T10:00:00Z' }), at('2026-01-01T10:00:30Z'), 1)),
    ).toEqual(['2026-01-01T10:01:00.000Z']);
  });
});

describe('fireTimesUpTo', () => {
  it('gives the latest fire times up to and including the reference, earliest first', () => {
    expect(
      iso(fireTimesUpTo(cron('* * * * * *'), at('2026-01-01T00:00:00Z'), at('2026-01-01T00:00:05.000Z'), 3)),
    ).toEqual(['2026-01-01T00:00:03.000Z', '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:05.000Z']);
  });

  it('gives nothing at or before `after`', () => {
    expect(fireTimesUpTo(cron('* * * * * *'), at('2026-01-01T00:00:05Z'), at('2026-01-01T00:00:05.900Z'), 3)).toEqual(
      [],
    );
  });
});

describe('checkTrigger', () => {
  const now = at('2026-01-01T00:00:00Z');
  it.each([
    ['* * * *', 'cron'],
    ['* * * * * * *', 'cron'],
    ['61 * * * *', 'cron'],
    ['0 0 30 2 *', 'cron'],
  ])('refuses %s', (expression, field) => {
    expect(checkTrigger({ kind: 'cron', expression, timeZone: 'UTC' }, now)).toMatchObject({ ok: false, field });
  });

  it('refuses a time zone the runtime does not know', () => {
    expect(checkTrigger({ kind: 'cron', expression: '* * * * *', timeZone: 'Mars/Olympus' }, now)).toMatchObject({
      ok: false,
      field: 'timeZone',
    });
  });

  it('takes 5 and 6 fields', () => {
    expect(checkTrigger({ kind: 'cron', expression: '*/5 * * * *', timeZone: 'Europe/Berlin' }, now).ok).toBe(true);
    expect(checkTrigger({ kind: 'cron', expression: '*/5 * * * * *', timeZone: 'UTC' }, now).ok).toBe(true);
  });
});

describe('fire times: properties', () => {
  const base = at('2026-03-20T00:00:00Z');
  const timing = fc.oneof(
    fc
      .constantFrom('* * * * * *', '*/7 * * * * *', '15,45 * * * * *', '*/2 * * * *', '30 2 * * *')
      .chain((e) => fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York').map((tz) => cron(e, tz))),
    fc.integer({ min: 1000, max: 600_000 }).map((ms) => every(ms)),
  );

  it('enumerates forwards and backwards the same increasing fire times', () => {
    fc.assert(
      fc.property(
        timing,
        fc.integer({ min: 0, max: 20 * 24 * 3_600_000 }),
        fc.integer({ min: 1, max: 30 }),
        (t, offset, n) => {
          const after = base + offset;
          const forward = fireTimesAfter(t, after, n);
          const last = forward.at(-1)!;
          expect(forward.every((time, i) => time > after && (i === 0 || time > forward[i - 1]!))).toBe(true);
          expect(fireTimesUpTo(t, after, last, n)).toEqual(forward);
        },
      ),
      { numRuns: 200 },
    );
  });
});
