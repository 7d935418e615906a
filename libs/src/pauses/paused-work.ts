import type { PauseEvent } from './pause-events';
import { evolvePause, pauseScopeId, type PauseScope } from './pause-scope';

/**
 * Every tenant's paused work, folded from the pause events in log order: what a runner asks before it starts a job.
 * Pure; the runner's pause view feeds it the whole pause topic.
 */
export class PausedWork {
  private readonly scopes = new Map<string, PauseScope>();
  /** The paused scopes by tenant (null: the tenant as a whole), asked before every job starts. */
  private readonly pausedByTenant = new Map<string, Set<string | null>>();

  /** Folds one event in; true when it changed whether its scope is paused (a new reason alone is no change). */
  apply(event: PauseEvent): boolean {
    const id = pauseScopeId(event.tenantId, event.data.jobType);
    const before = this.scopes.get(id) ?? null;
    const after = evolvePause(before, event);
    this.scopes.set(id, after);
    const changed = (before?.paused ?? false) !== after.paused;
    if (changed) this.index(after);
    return changed;
  }

  /** Whether jobs of `jobType` for `tenantId` must wait: the tenant is paused as a whole, or that type of it. */
  isPaused(tenantId: string, jobType: string): boolean {
    const paused = this.pausedByTenant.get(tenantId);
    return paused !== undefined && (paused.has(null) || paused.has(jobType));
  }

  private index(scope: PauseScope): void {
    let paused = this.pausedByTenant.get(scope.tenantId);
    if (scope.paused) {
      if (!paused) this.pausedByTenant.set(scope.tenantId, (paused = new Set()));
      paused.add(scope.jobType);
    } else if (paused) {
      paused.delete(scope.jobType);
      if (paused.size === 0) this.pausedByTenant.delete(scope.tenantId);
    }
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
