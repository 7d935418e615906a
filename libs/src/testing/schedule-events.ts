import { randomUUID } from 'node:crypto';
import { DEFAULT_BACKOFF } from '../jobs/backoff';
import { newScheduleEvent } from '../schedules/decide-schedule';
import type { ScheduleDefinition, ScheduleEventOf } from '../schedules/schedule-events';

/** A schedule definition: a `noop` job every second, catching up on every missed fire, overlaps allowed. */
export function aScheduleDefinition(overrides: Partial<ScheduleDefinition> = {}): ScheduleDefinition {
  return {
    name: null,
    trigger: { kind: 'cron', expression: '* * * * * *', timeZone: 'UTC' },
    job: {
      type: 'noop',
      payload: {},
      maxAttempts: 1,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      callbackUrl: null,
      notify: null,
      metadata: {},
    },
    startAt: null,
    endAt: null,
    catchUp: 'all',
    catchUpLimit: 100,
    overlap: 'allow',
    ...overrides,
  };
}

export interface ScheduleCreatedOverrides extends Partial<ScheduleDefinition> {
  scheduleId?: string;
  tenantId?: string;
  now?: Date;
  paused?: boolean;
}

/** A complete `ScheduleCreated` event as the producer writes it, for tenant `acme`, now, with a fresh id. */
export function aScheduleCreated(overrides: ScheduleCreatedOverrides = {}): ScheduleEventOf<'ScheduleCreated'> {
  const { scheduleId = randomUUID(), tenantId = 'acme', now = new Date(), paused = false, ...definition } = overrides;
  return newScheduleEvent(
    'ScheduleCreated',
    { scheduleId, tenantId, source: 'producer', now },
    { ...aScheduleDefinition(definition), paused, revision: 1 },
  );
}
