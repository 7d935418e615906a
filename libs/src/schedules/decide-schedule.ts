import { JoblineError } from '../errors/jobline-error';
import { newEnvelope, type EnvelopeContext } from '../events/event-envelope';
import { sameTrigger } from './evolve-schedule';
import type { Schedule } from './schedule';
import type { ScheduleDefinition, ScheduleEvent, ScheduleEventOf, ScheduleEventType } from './schedule-events';

export type ScheduleCommand =
  | { type: 'CreateSchedule'; definition: ScheduleDefinition; paused: boolean }
  /** The whole definition as it should be after the change, and whether the schedule should be paused. */
  | { type: 'ChangeSchedule'; definition: ScheduleDefinition; paused: boolean }
  | { type: 'DeleteSchedule' };

export interface ScheduleEventContext extends EnvelopeContext {
  scheduleId: string;
}

/** Builds a complete schedule event envelope around `data`, with a fresh event id. */
export function newScheduleEvent<T extends ScheduleEventType>(
  type: T,
  ctx: ScheduleEventContext,
  data: ScheduleEventOf<T>['data'],
): ScheduleEventOf<T> {
  return newEnvelope<ScheduleEventOf<T>>(type, { scheduleId: ctx.scheduleId }, ctx, data);
}

/**
 * Decides which events a command produces against the schedule's current state, or throws a `JoblineError` with a
 * stable code. Pure. A change that changes nothing produces no event.
 */
export function decideSchedule(
  command: ScheduleCommand,
  schedule: Schedule | null,
  ctx: ScheduleEventContext,
): ScheduleEvent[] {
  if (command.type === 'CreateSchedule') {
    if (schedule) throw new JoblineError('VALIDATION_FAILED', `schedule ${ctx.scheduleId} exists already`);
    return [newScheduleEvent('ScheduleCreated', ctx, { ...command.definition, paused: command.paused, revision: 1 })];
  }
  if (!schedule || schedule.status === 'deleted') {
    throw new JoblineError('SCHEDULE_NOT_FOUND', `no schedule ${ctx.scheduleId}`);
  }
  let revision = schedule.revision;
  switch (command.type) {
    case 'ChangeSchedule': {
      const events: ScheduleEvent[] = [];
      if (!sameDefinition(command.definition, schedule)) {
        events.push(newScheduleEvent('ScheduleUpdated', ctx, { ...command.definition, revision: (revision += 1) }));
      }
      if (command.paused && schedule.status === 'active') {
        events.push(newScheduleEvent('SchedulePaused', ctx, { revision: (revision += 1) }));
      } else if (!command.paused && schedule.status === 'paused') {
        events.push(newScheduleEvent('ScheduleResumed', ctx, { revision: (revision += 1) }));
      }
      return events;
    }
    case 'DeleteSchedule':
      return [newScheduleEvent('ScheduleDeleted', ctx, { revision: revision + 1 })];
    default: {
      const _never: never = command;
      return _never;
    }
  }
}

/** The definition part of a schedule's state, as an update would write it. */
export function definitionOf(schedule: Schedule): ScheduleDefinition {
  const { name, trigger, job, startAt, endAt, catchUp, catchUpLimit, overlap } = schedule;
  return { name, trigger, job, startAt, endAt, catchUp, catchUpLimit, overlap };
}

function sameDefinition(definition: ScheduleDefinition, schedule: Schedule): boolean {
  const { trigger, ...rest } = definition;
  const { trigger: current, ...currentRest } = definitionOf(schedule);
  return sameTrigger(trigger, current) && JSON.stringify(canonical(rest)) === JSON.stringify(canonical(currentRest));
}

/** JSON with object keys sorted, so that two equal values compare equal whatever order their keys were written in. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}
