import { newEnvelope } from '../events/event-envelope';
import type { PauseEventContext, PauseEventOf, PauseEventType } from './pause-events';

/** Builds a complete pause event envelope around `data`, with a fresh event id. */
export function newPauseEvent<T extends PauseEventType>(
  type: T,
  ctx: PauseEventContext,
  data: PauseEventOf<T>['data'],
): PauseEventOf<T> {
  return newEnvelope<PauseEventOf<T>>(type, {}, ctx, data);
}
