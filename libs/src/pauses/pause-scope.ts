import type { PauseEvent } from './pause-events';

/**
 * One scope of a tenant's work as its pause events leave it: the tenant as a whole (`jobType` null) or one job type of
 * it. It is what the `pauses` projection stores, one document per scope ever paused or resumed.
 */
export interface PauseScope {
  tenantId: string;
  jobType: string | null;
  paused: boolean;
  /** The reason given with the latest pause; null while not paused. */
  reason: string | null;
  /** Since when the scope has been paused without a resume in between; null while not paused. */
  pausedAt: string | null;
  /** Who made the latest change (an API token's id). */
  changedBy: string;
  /** When the latest change was made. */
  changedAt: string;
}

/** The key of a scope, unambiguous whatever characters a tenant id holds. */
export function pauseScopeId(tenantId: string, jobType: string | null): string {
  return JSON.stringify([tenantId, jobType]);
}

/**
 * The pause state machine: folds one event into its scope's state. Pure. Events state the scope's state after them,
 * so the latest event decides: a pause of what is paused keeps the moment it was first paused and takes the newer
 * reason; a resume of what is not paused leaves it resumed. Events must come in log order (a scope's events share the
 * tenant's partition); the projection keeps the position of the latest it applied and skips older ones.
 */
export function evolvePause(scope: PauseScope | null, event: PauseEvent): PauseScope {
  const base = {
    tenantId: event.tenantId,
    jobType: event.data.jobType,
    changedBy: event.data.by,
    changedAt: event.occurredAt,
  };
  switch (event.type) {
    case 'WorkPaused':
      return {
        ...base,
        paused: true,
        reason: event.data.reason,
        pausedAt: scope?.paused && scope.pausedAt ? scope.pausedAt : event.occurredAt,
      };
    case 'WorkResumed':
      return { ...base, paused: false, reason: null, pausedAt: null };
    default: {
      const _never: never = event;
      return _never;
    }
  }
}
