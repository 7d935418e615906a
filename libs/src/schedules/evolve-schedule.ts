import type { ScheduleEvent, ScheduleTrigger } from './schedule-events';
import type { Schedule } from './schedule';

/**
 * The schedule state machine: folds one event into the schedule's state. Pure and deterministic.
 *
 * An event applies only when its revision is newer than the state's, so applying an event twice, or replaying any
 * earlier part of the history on top of the current state, leaves the state unchanged. A deleted schedule stays
 * deleted. The persister (with its Kafka position check on top), the runner that fires schedules and the producer use
 * this same function.
 */
export function evolveSchedule(schedule: Schedule | null, event: ScheduleEvent): Schedule | null {
  const at = event.occurredAt;
  if (event.type === 'ScheduleCreated') {
    if (schedule) return schedule;
    const { revision, paused, ...definition } = event.data;
    return {
      ...definition,
      id: event.scheduleId,
      tenantId: event.tenantId,
      status: paused ? 'paused' : 'active',
      revision,
      firesFrom: at,
      anchorAt: at,
      createdAt: at,
      updatedAt: at,
      deletedAt: null,
    };
  }
  if (!schedule || schedule.status === 'deleted' || event.data.revision <= schedule.revision) return schedule;
  const revision = event.data.revision;

  switch (event.type) {
    case 'ScheduleUpdated': {
      const { revision: _revision, ...definition } = event.data;
      const triggerChanged = !sameTrigger(definition.trigger, schedule.trigger);
      const timingChanged =
        triggerChanged || definition.startAt !== schedule.startAt || definition.endAt !== schedule.endAt;
      return {
        ...schedule,
        ...definition,
        revision,
        firesFrom: timingChanged ? at : schedule.firesFrom,
        anchorAt: triggerChanged ? at : schedule.anchorAt,
        updatedAt: at,
      };
    }
    case 'SchedulePaused':
      return { ...schedule, status: 'paused', revision, updatedAt: at };
    case 'ScheduleResumed':
      // The fires that came due while it was paused are not missed: they were not wanted.
      return schedule.status === 'paused'
        ? { ...schedule, status: 'active', revision, firesFrom: at, updatedAt: at }
        : { ...schedule, revision, updatedAt: at };
    case 'ScheduleDeleted':
      return { ...schedule, status: 'deleted', revision, deletedAt: at, updatedAt: at };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}

export function sameTrigger(a: ScheduleTrigger, b: ScheduleTrigger): boolean {
  if (a.kind === 'interval') return b.kind === 'interval' && a.everyMs === b.everyMs;
  return b.kind === 'cron' && a.expression === b.expression && a.timeZone === b.timeZone;
}

/** Folds a sequence of events, starting from `schedule` (none by default). */
export function foldScheduleEvents(events: Iterable<ScheduleEvent>, schedule: Schedule | null = null): Schedule | null {
  let state = schedule;
  for (const event of events) state = evolveSchedule(state, event);
  return state;
}
