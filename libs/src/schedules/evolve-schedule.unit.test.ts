import fc from 'fast-check';
import { aScheduleCreated, aScheduleDefinition } from '../testing/schedule-events';
import { decideSchedule, definitionOf, type ScheduleCommand } from './decide-schedule';
import { evolveSchedule, foldScheduleEvents } from './evolve-schedule';
import type { ScheduleEvent } from './schedule-events';

const T0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);
const created = aScheduleCreated({ now: T0 });
const ctx = (s: number) => ({
  scheduleId: created.scheduleId,
  tenantId: 'acme',
  source: 'producer' as const,
  now: later(s),
});

/** Given events, when a command is decided, then these events; and the state they fold into. */
function given(...history: ScheduleEvent[]) {
  const state = foldScheduleEvents(history);
  return {
    when: (command: ScheduleCommand, s = 10) => {
      const events = decideSchedule(command, state, ctx(s));
      return { events, state: foldScheduleEvents(events, state) };
    },
  };
}

describe('schedules: decide and evolve', () => {
  it('creates an active schedule whose fires count from its creation', () => {
    const state = evolveSchedule(null, created)!;
    expect(state).toMatchObject({ status: 'active', revision: 1, firesFrom: T0.toISOString(), deletedAt: null });
  });

  it('pauses, and resumes with fires counting from the resumption (the paused ones are not missed)', () => {
    const paused = given(created).when({
      type: 'ChangeSchedule',
      definition: definitionOf(evolveSchedule(null, created)!),
      paused: true,
    });
    expect(paused.events.map((e) => e.type)).toEqual(['SchedulePaused']);
    expect(paused.state).toMatchObject({ status: 'paused', revision: 2 });

    const resumed = given(created, ...paused.events).when(
      { type: 'ChangeSchedule', definition: definitionOf(paused.state!), paused: false },
      60,
    );
    expect(resumed.events.map((e) => e.type)).toEqual(['ScheduleResumed']);
    expect(resumed.state).toMatchObject({ status: 'active', revision: 3, firesFrom: later(60).toISOString() });
  });

  it('records an update as the whole new definition; a new trigger restarts the fires and the interval anchor', () => {
    const definition = aScheduleDefinition({ trigger: { kind: 'interval', everyMs: 5000 }, overlap: 'skip' });
    const { events, state } = given(created).when({ type: 'ChangeSchedule', definition, paused: false });
    expect(events).toMatchObject([{ type: 'ScheduleUpdated', data: { ...definition, revision: 2 } }]);
    expect(state).toMatchObject({
      overlap: 'skip',
      firesFrom: later(10).toISOString(),
      anchorAt: later(10).toISOString(),
    });
  });

  it('keeps the fires going when only the job template or a policy changes', () => {
    const definition = aScheduleDefinition({ overlap: 'bufferOne' });
    const { state } = given(created).when({ type: 'ChangeSchedule', definition, paused: false });
    expect(state).toMatchObject({ overlap: 'bufferOne', firesFrom: T0.toISOString() });
  });

  it('produces nothing for a change that changes nothing', () => {
    const state = evolveSchedule(null, created)!;
    expect(
      given(created).when({ type: 'ChangeSchedule', definition: definitionOf(state), paused: false }).events,
    ).toEqual([]);
  });

  it('deletes for good: a deleted schedule is not found for further changes', () => {
    const deleted = given(created).when({ type: 'DeleteSchedule' });
    expect(deleted.state).toMatchObject({ status: 'deleted', deletedAt: later(10).toISOString() });
    expect(() => given(created, ...deleted.events).when({ type: 'DeleteSchedule' })).toThrow(
      expect.objectContaining({ code: 'SCHEDULE_NOT_FOUND' }),
    );
  });

  it('ignores its ScheduleCreated published again (an idempotent retry), after changes or a deletion', () => {
    const paused = given(created).when({
      type: 'ChangeSchedule',
      definition: definitionOf(evolveSchedule(null, created)!),
      paused: true,
    }).state!;
    const deleted = given(created).when({ type: 'DeleteSchedule' }).state!;
    // The same state, not an equal one: the runners' firer takes an unchanged reference for no change at all.
    expect(evolveSchedule(paused, created)).toBe(paused);
    expect(evolveSchedule(deleted, created)).toBe(deleted);
  });

  it('refuses changes to a schedule that does not exist', () => {
    expect(() => given().when({ type: 'DeleteSchedule' })).toThrow(
      expect.objectContaining({ code: 'SCHEDULE_NOT_FOUND' }),
    );
  });
});

describe('evolveSchedule: properties', () => {
  const command = fc.oneof(
    fc.record({
      type: fc.constant('ChangeSchedule' as const),
      definition: fc
        .record({
          overlap: fc.constantFrom('allow' as const, 'skip' as const, 'bufferOne' as const),
          everyMs: fc.option(fc.integer({ min: 1000, max: 10_000 }), { nil: null }),
        })
        .map(({ overlap, everyMs }) =>
          aScheduleDefinition({ overlap, ...(everyMs ? { trigger: { kind: 'interval' as const, everyMs } } : {}) }),
        ),
      paused: fc.boolean(),
    }),
    fc.constant({ type: 'DeleteSchedule' as const }),
  );
  /** A history as the producer would write it: each command decided on the state so far. */
  const history = fc.array(command, { maxLength: 12 }).map((commands) => {
    const events: ScheduleEvent[] = [created];
    commands.forEach((c, i) => {
      try {
        events.push(...decideSchedule(c, foldScheduleEvents(events), ctx(i + 1)));
      } catch {
        // A change of a deleted schedule is refused, as the API refuses it.
      }
    });
    return events;
  });

  it('applying any event twice gives the same state', () => {
    fc.assert(
      fc.property(history, fc.nat(), (events, pick) => {
        const i = pick % events.length;
        const doubled = [...events.slice(0, i + 1), events[i]!, ...events.slice(i + 1)];
        expect(foldScheduleEvents(doubled)).toEqual(foldScheduleEvents(events));
      }),
    );
  });

  it('replaying any prefix of the history on top of the final state gives the same state', () => {
    fc.assert(
      fc.property(history, fc.nat(), (events, cut) => {
        const state = foldScheduleEvents(events);
        expect(foldScheduleEvents(events.slice(0, cut % (events.length + 1)), state)).toEqual(state);
      }),
    );
  });
});
