import type { PauseEvent } from './pause-events';
import { evolvePause, pauseScopeId, type PauseScope } from './pause-scope';

/**
 * Every tenant's paused work, folded from the pause events in log order: what a runner asks before it starts a job.
 * Pure; the runner's pause view feeds it the whole pause topic.
 */
export class PausedWork {
  private readonly scopes = new Map<string, PauseScope>();

  /** Folds one event in; true when it changed whether its scope is paused (a new reason alone is no change). */
  apply(event: PauseEvent): boolean {
    const id = pauseScopeId(event.tenantId, event.data.jobType);
    const before = this.scopes.get(id) ?? null;
    const after = evolvePause(before, event);
    this.scopes.set(id, after);
    return (before?.paused ?? false) !== after.paused;
  }

  /** Whether jobs of `jobType` for `tenantId` must wait: the tenant is paused as a whole, or that type of it. */
  isPaused(tenantId: string, jobType: string): boolean {
    return (
      (this.scopes.get(pauseScopeId(tenantId, null))?.paused ?? false) ||
      (this.scopes.get(pauseScopeId(tenantId, jobType))?.paused ?? false)
    );
  }

  /** The scopes of `tenantId` that are paused now. */
  pausedScopes(tenantId: string): PauseScope[] {
    return [...this.scopes.values()].filter((s) => s.tenantId === tenantId && s.paused);
  }
}

/** Folds a sequence of events, in log order, into a fresh `PausedWork`. */
export function foldPauseEvents(events: Iterable<PauseEvent>): PausedWork {
  const work = new PausedWork();
  for (const event of events) work.apply(event);
  return work;
}
