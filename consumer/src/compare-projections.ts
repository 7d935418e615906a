import { isDeepStrictEqual } from 'node:util';
import type { Collection, FindCursor } from 'mongodb';
import type { CheckpointDocument, LogPosition } from '@jobline/libs';
import type { ProjectedDocument } from './fold-projection';
import type { HighWaterMarks } from './replay';

export interface FieldDifference {
  field: string;
  live: unknown;
  rebuilt: unknown;
}

/** A difference in one projection; `id` is the document's (a job id, a schedule id, a pause scope id). */
export type ProjectionDifference =
  /** In the live projection, folded from events the replay read, yet not rebuilt. */
  | { kind: 'missing'; id: string; live: LogPosition }
  /** Rebuilt from events the live persister has folded, yet not in the live projection. */
  | { kind: 'extra'; id: string; rebuilt: LogPosition }
  | { kind: 'differs'; id: string; fields: FieldDifference[] };

export interface ProjectionComparison {
  /** Documents present in both projections and within the replayed range, compared field by field. */
  compared: number;
  differences: ProjectionDifference[];
  /** Live documents changed or created by events past the high-water marks: not comparable, so not differences. */
  changedAfterReplay: number;
  /** Rebuilt documents whose last event the live persister had not folded yet: not comparable either. */
  liveBehind: number;
}

export interface CompareOptions {
  /** One projection's collection (`jobs`, `schedules`, `pauses`) in the live database. */
  live: Collection<ProjectedDocument>;
  /** The same collection in the rebuilt database. */
  rebuilt: Collection<ProjectedDocument>;
  /** The live persisters' checkpoints. */
  liveCheckpoints: Collection<CheckpointDocument>;
  /** The topic the projection is folded from. */
  topic: string;
  /** Where the replay of that topic stopped; live documents at or past these positions moved on after it. */
  highWaterMarks: HighWaterMarks;
  /** Documents read per round trip. @defaultValue 1000 */
  batchSize?: number;
}

/**
 * Holds a rebuilt projection (`jobs`, `schedules` or `pauses`) against the live one. The live log goes on while a
 * replay runs, so a document is compared only where both sides rest on the same prefix of its partition: the live
 * document's position lies below the high-water mark, and the live persister's checkpoint lies past the rebuilt
 * document's position. Documents outside that are counted apart, never reported as differences.
 */
export async function compareProjection(options: CompareOptions): Promise<ProjectionComparison> {
  const { live, rebuilt, topic, highWaterMarks } = options;
  const batchSize = options.batchSize ?? 1000;
  // Read before the documents: the persister saves a checkpoint only after the documents it covers, so every change
  // below it is visible in what is read next.
  const liveCheckpoints = await options.liveCheckpoints.find({ topic }).toArray();
  const liveNext = new Map(liveCheckpoints.map((c) => [c.partition, c.nextOffset]));
  const replayed = (p: LogPosition) => p.offset < (highWaterMarks.get(p.partition) ?? 0);
  const liveReached = (p: LogPosition) => p.offset < (liveNext.get(p.partition) ?? 0);

  const result: ProjectionComparison = { compared: 0, differences: [], changedAfterReplay: 0, liveBehind: 0 };

  for await (const liveDocs of inBatches(live.find({}), batchSize)) {
    const rebuiltDocs = await rebuilt.find({ _id: { $in: liveDocs.map((d) => d._id) } }).toArray();
    const rebuiltById = new Map(rebuiltDocs.map((d) => [d._id, d]));
    for (const liveDoc of liveDocs) {
      const rebuiltDoc = rebuiltById.get(liveDoc._id);
      if (!replayed(liveDoc.position)) result.changedAfterReplay += 1;
      else if (!rebuiltDoc) result.differences.push({ kind: 'missing', id: liveDoc._id, live: liveDoc.position });
      else {
        result.compared += 1;
        const fields = differingFields(liveDoc, rebuiltDoc);
        if (fields.length === 0) continue;
        if (liveReached(rebuiltDoc.position)) result.differences.push({ kind: 'differs', id: liveDoc._id, fields });
        else result.liveBehind += 1;
      }
    }
  }

  const positionsOnly = { projection: { _id: 1, position: 1 } } as const;
  for await (const rebuiltDocs of inBatches(rebuilt.find({}, positionsOnly), batchSize)) {
    const ids = rebuiltDocs.map((d) => d._id);
    const present = new Set((await live.find({ _id: { $in: ids } }, positionsOnly).toArray()).map((d) => d._id));
    for (const doc of rebuiltDocs) {
      if (present.has(doc._id)) continue;
      if (liveReached(doc.position)) result.differences.push({ kind: 'extra', id: doc._id, rebuilt: doc.position });
      else result.liveBehind += 1;
    }
  }
  return result;
}

function differingFields(live: ProjectedDocument, rebuilt: ProjectedDocument): FieldDifference[] {
  const a = live as unknown as Record<string, unknown>;
  const b = rebuilt as unknown as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((field) => !isDeepStrictEqual(a[field], b[field]))
    .sort()
    .map((field) => ({ field, live: a[field], rebuilt: b[field] }));
}

async function* inBatches<T>(cursor: FindCursor<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const doc of cursor) {
    batch.push(doc);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
