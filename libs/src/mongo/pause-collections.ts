import type { Collection, Db } from 'mongodb';
import type { PauseScope } from '../pauses/pause-scope';
import type { CheckpointDocument, LogPosition } from './collections';

/**
 * The `pauses` projection: one document per scope of a tenant ever paused or resumed (`_id` is `pauseScopeId`), with
 * the position of the latest event folded into it.
 */
export type PauseDocument = PauseScope & { _id: string; position: LogPosition };

export interface PauseCollections {
  pauses: Collection<PauseDocument>;
  /** The same checkpoints as the job projection's, by topic and partition. */
  checkpoints: Collection<CheckpointDocument>;
}

export function pauseCollections(db: Db): PauseCollections {
  return {
    pauses: db.collection<PauseDocument>('pauses'),
    checkpoints: db.collection<CheckpointDocument>('checkpoints'),
  };
}

export async function ensurePauseIndexes(c: PauseCollections): Promise<void> {
  // GET /v1/pauses: a tenant's scopes.
  await c.pauses.createIndex({ tenantId: 1 });
}

export function pauseScopeFromDocument(doc: PauseDocument): PauseScope {
  const { _id: _ignored, position: _position, ...scope } = doc;
  return scope;
}
