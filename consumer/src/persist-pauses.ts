import {
  decodePauseEvent,
  evolvePause,
  pauseScopeFromDocument,
  pauseScopeId,
  type Logger,
  type PauseCache,
  type PauseCollections,
  type PauseDocument,
  type PauseEvent,
  type PauseScope,
} from '@jobline/libs';
import {
  createProjectionFold,
  type PartitionBatch,
  type PersistResult,
  type PoisonMessage,
  type Projection,
} from './fold-projection';

export interface PausePersisterDeps {
  collections: PauseCollections;
  /** Refreshed with each changed scope, so that the producer's reads see the folded state. */
  cache?: PauseCache;
  topic: string;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
}

/**
 * The `pauses` projection: one document per scope of a tenant (the tenant as a whole, or one of its job types), folded
 * with `evolvePause`. A tenant's events all lie in one partition (they are keyed by tenant), so each scope's do too.
 */
export const pauseProjection: Projection<PauseEvent, PauseScope> = {
  noun: 'pause scope',
  decode: decodePauseEvent,
  keyOf: (event) => pauseScopeId(event.tenantId, event.data.jobType),
  evolve: evolvePause,
  fromDocument: pauseScopeFromDocument,
};

/**
 * Folds batches of `jobline.pause-events` into the `pauses` projection with the fold every projection shares
 * (`createProjectionFold`) and the guarantees of `persist-batch.ts`: each scope's document advances with `evolvePause`
 * past the position it holds, with a write conditional on that position, and the checkpoint of each partition is saved
 * last. Delivering a batch twice, or overlapping batches, leaves the same documents. The topic itself is the history of
 * pauses (kept forever), so no event collection is kept beside it.
 */
export function createPausePersister(deps: PausePersisterDeps) {
  const fold = createProjectionFold<PauseEvent, PauseScope>({
    projection: pauseProjection,
    topic: deps.topic,
    documents: deps.collections.pauses,
    checkpoints: deps.collections.checkpoints,
    logger: deps.logger,
    quarantine: deps.quarantine,
  });

  return async function persistPauseBatch(batches: readonly PartitionBatch[]): Promise<PersistResult> {
    const { applied: _applied, changed, ...result } = await fold(batches);
    await refreshCache(changed);
    return result;
  };

  /** The persister's state is folded from the log in order: at the same position it replaces the producer's. */
  async function refreshCache(changed: PauseDocument[]) {
    if (!deps.cache || changed.length === 0) return;
    try {
      await deps.cache.putNewer(
        changed.map((doc) => ({ scope: pauseScopeFromDocument(doc), position: doc.position })),
        { replaceSamePosition: true },
      );
    } catch (err) {
      // The projection is written; a stale cached scope must not hide it. Evict, so readers fall back to MongoDB.
      const tenants = [...new Set(changed.map((d) => d.tenantId))];
      await deps.cache.evict(tenants).catch(() => undefined);
      deps.logger.error('pause cache refresh failed', { tenants: tenants.length, err });
    }
  }
}
