import fc from 'fast-check';
import { z } from 'zod';
import { evolve } from '../jobs/evolve-job';
import { aScheduleCreated } from '../testing/schedule-events';
import { evolveSchedule } from './evolve-schedule';
import { fireTimesAfter, fireTimesUpTo } from './fire-times';
import {
  decideOverlap,
  FIRE_AT_METADATA_KEY,
  fireRequest,
  ON_TIME_GRACE_MS,
  planDueFires,
  previousFireRunning,
  recoverFireProgress,
  recoveryCandidates,
  recoverySteps,
  SCHEDULE_METADATA_KEY,
} from './plan-fires';
import type { Schedule } from './schedule';
import type { ScheduleCreatedOverrides } from '../testing/schedule-events';

const CREATED = new Date('2026-01-01T00:00:00.400Z');
const at = (seconds: number) => Date.parse('2026-01-01T00:00:00Z') + seconds * 1000;

function aSchedule(overrides: ScheduleCreatedOverrides = {}): Schedule {
  return evolveSchedule(null, aScheduleCreated({ now: CREATED, ...overrides }))!;
}

describe('planDueFires', () => {
  it('fires the one fire that came due, in steady running, whatever the catch-up policy', () => {
    for (const catchUp of ['none', 'latest', 'all'] as const) {
      expect(planDueFires(aSchedule({ catchUp }), at(5), at(6) + 3)).toEqual({
        fire: [at(6)],
        dropped: 0,
        moreDropped: false,
        decidedThrough: at(6) + 3,
        nextFireAt: at(7),
      });
    }
  });

  it('fires nothing before the schedule was created', () => {
    expect(planDueFires(aSchedule(), 0, at(0.9)).fire).toEqual([]);
    expect(planDueFires(aSchedule(), 0, at(1)).fire).toEqual([at(1)]);
  });

  describe('after downtime (fires 1 to 30 missed, found at 30.2)', () => {
    const now = at(30) + 200;

    it('catchUp all: fires every missed fire, up to the latest catchUpLimit', () => {
      expect(planDueFires(aSchedule({ catchUp: 'all' }), 0, now).fire).toEqual(fireTimesUpTo(aSchedule(), 0, now, 30));
      expect(planDueFires(aSchedule({ catchUp: 'all', catchUpLimit: 5 }), 0, now)).toMatchObject({
        fire: [at(26), at(27), at(28), at(29), at(30)],
        dropped: 1,
        moreDropped: true,
      });
    });

    it('catchUp latest: fires only the latest', () => {
      expect(planDueFires(aSchedule({ catchUp: 'latest' }), 0, now)).toMatchObject({
        fire: [at(30)],
        dropped: 10,
        moreDropped: true,
        nextFireAt: at(31),
      });
    });

    it(`catchUp none: fires only what is at most ${ON_TIME_GRACE_MS} ms late`, () => {
      expect(planDueFires(aSchedule({ catchUp: 'none' }), 0, now).fire).toEqual([
        at(26),
        at(27),
        at(28),
        at(29),
        at(30),
      ]);
    });
  });

  it('fires nothing for a paused or deleted schedule', () => {
    const paused = aSchedule({ paused: true });
    expect(planDueFires(paused, 0, at(30)).fire).toEqual([]);
    expect(planDueFires({ ...aSchedule(), status: 'deleted' }, 0, at(30)).fire).toEqual([]);
  });

  it('makes every fire exactly once over any sequence of wake-ups, when catching up on all of them', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 1, maxLength: 40 }), (gaps) => {
        const schedule = aSchedule({ catchUp: 'all', catchUpLimit: 1000 });
        let decided = 0;
        let now = CREATED.getTime();
        const fired: number[] = [];
        for (const gap of gaps) {
          now += gap;
          const plan = planDueFires(schedule, decided, now);
          fired.push(...plan.fire);
          decided = plan.decidedThrough;
        }
        expect(fired).toEqual(fireTimesAfter(schedule, CREATED.getTime(), 1000).filter((t) => t <= now));
      }),
    );
  });
});

describe('decideOverlap', () => {
  it.each([
    ['allow', true, false, 'fire'],
    ['skip', false, false, 'fire'],
    ['skip', true, false, 'skip'],
    ['bufferOne', false, false, 'fire'],
    ['bufferOne', true, false, 'buffer'],
    ['bufferOne', true, true, 'skip'],
  ] as const)('%s, previous running %s, one buffered %s: %s', (policy, running, buffered, decision) => {
    expect(decideOverlap(policy, running, buffered)).toBe(decision);
  });

  it('counts a previous job the projection does not hold yet as running', () => {
    expect(previousFireRunning(null)).toBe(true);
    expect(previousFireRunning('pending')).toBe(true);
    expect(previousFireRunning('completed')).toBe(false);
  });
});

describe('fireRequest', () => {
  it('requests the template job under an id derived from the schedule and the fire time', () => {
    const schedule = aSchedule({ job: { ...aSchedule().job, metadata: { team: 'ops' } } });
    const request = fireRequest(schedule, at(7), new Date(at(7) + 12));

    expect(z.uuid().safeParse(request.jobId).success).toBe(true);
    expect(request).toMatchObject({
      tenantId: 'acme',
      source: 'runner',
      data: {
        type: 'noop',
        runAt: null,
        metadata: {
          team: 'ops',
          [SCHEDULE_METADATA_KEY]: schedule.id,
          [FIRE_AT_METADATA_KEY]: '2026-01-01T00:00:07.000Z',
        },
      },
    });
  });

  it('fired twice, later, is the same job with the same request event, which the job state machine ignores', () => {
    const schedule = aSchedule();
    const first = fireRequest(schedule, at(7), new Date(at(7) + 5));
    const again = fireRequest(schedule, at(7), new Date(at(9)));

    expect([again.jobId, again.eventId]).toEqual([first.jobId, first.eventId]);
    const job = evolve(null, first);
    expect(evolve(job, again)).toBe(job);
  });
});

describe('recovering where the fires got to', () => {
  const now = at(30) + 200;

  it('looks at the latest due fire times first, as many as the catch-up policy could still make', () => {
    expect(recoveryCandidates(aSchedule({ catchUp: 'all', catchUpLimit: 5 }), now)).toEqual([
      at(30),
      at(29),
      at(28),
      at(27),
      at(26),
      at(25),
    ]);
    expect(recoverySteps(recoveryCandidates(aSchedule({ catchUp: 'latest' }), now)).map((s) => s.length)).toEqual([
      10, 1,
    ]);
  });

  it('resumes after the latest fire made, or from firesFrom when none was', () => {
    expect(recoverFireProgress(aSchedule(), [at(27), at(25)])).toEqual({ decidedThrough: at(27), lastFireAt: at(27) });
    expect(recoverFireProgress(aSchedule(), [])).toEqual({ decidedThrough: CREATED.getTime(), lastFireAt: null });
  });

  it('then makes every fire after the latest made one, with catch-up all', () => {
    const schedule = aSchedule({ catchUp: 'all' });
    const progress = recoverFireProgress(schedule, [at(20)]);
    expect(planDueFires(schedule, progress.decidedThrough, now).fire).toEqual(
      Array.from({ length: 10 }, (_, i) => at(21 + i)),
    );
  });
});
