import { newPauseEvent } from '../pauses/new-pause-event';
import type { PauseEventOf } from '../pauses/pause-events';

export interface PauseEventOverrides {
  tenantId?: string;
  /** The job type; null (the default) for the tenant as a whole. */
  jobType?: string | null;
  by?: string;
  now?: Date;
}

/** A complete `WorkPaused` event as the producer writes it: tenant `acme` as a whole, paused now, without a reason. */
export function aWorkPaused(
  overrides: PauseEventOverrides & { reason?: string | null } = {},
): PauseEventOf<'WorkPaused'> {
  const { tenantId = 'acme', jobType = null, by = 'env:test', now = new Date(), reason = null } = overrides;
  return newPauseEvent('WorkPaused', { tenantId, source: 'producer', now }, { jobType, by, reason });
}

/** A complete `WorkResumed` event as the producer writes it: tenant `acme` as a whole, resumed now. */
export function aWorkResumed(overrides: PauseEventOverrides = {}): PauseEventOf<'WorkResumed'> {
  const { tenantId = 'acme', jobType = null, by = 'env:test', now = new Date() } = overrides;
  return newPauseEvent('WorkResumed', { tenantId, source: 'producer', now }, { jobType, by });
}
