import { EVENT_SCHEMA_VERSION } from '../events/job-events';
import { timeOrderedId } from '../events/time-ordered-id';
import type { PauseEventContext, PauseEventOf, PauseEventType } from './pause-events';

/** Builds a complete pause event envelope around `data`, with a fresh event id. */
export function newPauseEvent<T extends PauseEventType>(
  type: T,
  ctx: PauseEventContext,
  data: PauseEventOf<T>['data'],
): PauseEventOf<T> {
  return {
    eventId: timeOrderedId(ctx.now),
    tenantId: ctx.tenantId,
    type,
    schemaVersion: EVENT_SCHEMA_VERSION,
    occurredAt: ctx.now.toISOString(),
    source: ctx.source,
    data,
  } as PauseEventOf<T>;
}
