import { checkpointId, type CheckpointDocument, type Logger, type LogPosition } from '@jobline/libs';
import {
  MongoBulkWriteError,
  type AnyBulkWriteOperation,
  type Collection,
  type OptionalUnlessRequiredId,
} from 'mongodb';

export interface LogMessage {
  offset: number;
  value: Buffer | null;
}

/** Messages of one partition of an event topic, in log order. */
export interface PartitionBatch {
  partition: number;
  messages: readonly LogMessage[];
}

export interface PoisonMessage {
  partition: number;
  offset: number;
  value: Buffer | null;
  reason: string;
}

export interface PersistResult {
  events: number;
  duplicates: number;
  poison: number;
  /** Documents of the projection the batch changed (jobs, schedules or pause scopes). */
  jobsChanged: number;
}

/**
 * A projection's document: the state folded for one key, and the position of the last event folded into it. Without a
 * state type, what every projection's documents have in common.
 */
export type ProjectedDocument<S = unknown> = S & { _id: string; position: LogPosition };

/** How one event-sourced projection folds its topic: the pure parts, shared by its persister and by replay. */
export interface Projection<E extends { type: string }, S> {
  /** What one document stands for, in log lines: `job`, `schedule`, `pause scope`. */
  noun: string;
  /** Never throws: what cannot be read is reported, so the partition keeps flowing. */
  decode(value: Buffer | null): { ok: true; event: E } | { ok: false; reason: string };
  /** The document an event folds into. All events of one key lie in one partition of the topic. */
  keyOf(event: E): string;
  /** The state after the event; null where the event cannot start a document (its first event is missing). */
  evolve(state: S | null, event: E): S | null;
  fromDocument(doc: ProjectedDocument<S>): S;
}

/** An event that advanced its document, with the state before (null: the document's first) and after. */
export interface AppliedEvent<E, S> {
  event: E;
  position: LogPosition;
  before: S | null;
  after: S;
}

/** A document as folded from a batch, and the offset it held in MongoDB before the batch (null: not there yet). */
export interface FoldedDocument<S> {
  doc: ProjectedDocument<S>;
  previousOffset: number | null;
}

export interface ProjectionFoldDeps<E extends { type: string }, S, L extends { _id: string }> {
  projection: Projection<E, S>;
  topic: string;
  documents: Collection<ProjectedDocument<S>>;
  /** Where each decoded event is appended under its id; absent where the topic itself is the only history kept. */
  eventLog?: { collection: Collection<L>; toDocument(event: E, position: LogPosition): OptionalUnlessRequiredId<L> };
  checkpoints: Collection<CheckpointDocument>;
  logger: Logger;
  /** Puts an undecodable message aside (the quarantine topic) so the partition keeps flowing. */
  quarantine: (messages: PoisonMessage[]) => Promise<void>;
}

/** What the persister loop is told (`duplicates`: events the event log held already), and what follows the write. */
export interface FoldOutcome<E, S> extends PersistResult {
  /** The events that advanced a document, each key's in log order. */
  applied: AppliedEvent<E, S>[];
  /** The documents written, each at its last state of the batch. */
  changed: ProjectedDocument<S>[];
}

const DUPLICATE_KEY = 11000;

/**
 * Folds batches of an event topic, of any number of partitions, into its projection in one round trip per step,
 * idempotently:
 * 1. undecodable messages are quarantined;
 * 2. every event is appended to the event log under its event id, if the projection keeps one (a duplicate is ignored);
 * 3. each key's document is advanced with the projection's `evolve`, skipping events at or before the position it holds;
 * 4. `beforeWrite` is awaited with the events applied: what depends on them is stored there, because a redelivered
 *    batch skips events the projection already holds;
 * 5. the documents are written, each conditional on the position it held when read;
 * 6. the checkpoint (next offset) of each partition is saved, last, so that it never passes an unwritten document.
 * Delivering the same batch twice, or any overlap of batches, leaves the same documents. Caches and announcements,
 * which follow the write, are the caller's.
 */
export function createProjectionFold<E extends { type: string }, S, L extends { _id: string } = never>(
  deps: ProjectionFoldDeps<E, S, L>,
) {
  const { projection, checkpoints, topic, logger } = deps;
  // The driver's filter types cannot see `_id` and `position` through a generic state; every query here touches those
  // two fields alone, so it is typed against them.
  const documents = deps.documents as unknown as Collection<{ _id: string; position: LogPosition }>;

  return async function foldBatch(
    batches: readonly PartitionBatch[],
    beforeWrite?: (applied: AppliedEvent<E, S>[]) => Promise<void>,
  ): Promise<FoldOutcome<E, S>> {
    const events: { event: E; position: LogPosition }[] = [];
    const poison: PoisonMessage[] = [];
    for (const { partition, messages } of batches) {
      for (const message of messages) {
        const decoded = projection.decode(message.value);
        if (decoded.ok) events.push({ event: decoded.event, position: { partition, offset: message.offset } });
        else poison.push({ partition, offset: message.offset, value: message.value, reason: decoded.reason });
      }
    }
    if (poison.length > 0) {
      logger.warn('quarantining undecodable events', {
        topic,
        positions: poison.map((p) => `${p.partition}:${p.offset}`),
        reasons: [...new Set(poison.map((p) => p.reason))],
      });
      await deps.quarantine(poison);
    }

    const eventLog = deps.eventLog;
    const duplicates = eventLog
      ? await insertIgnoringDuplicates(
          eventLog.collection,
          events.map(({ event, position }) => eventLog.toDocument(event, position)),
        )
      : 0;

    const keys = [...new Set(events.map(({ event }) => projection.keyOf(event)))];
    const current = new Map<string, ProjectedDocument<S>>();
    if (keys.length > 0) {
      const found = (await documents.find({ _id: { $in: keys } }).toArray()) as ProjectedDocument<S>[];
      for (const doc of found) current.set(doc._id, doc);
    }
    const { applied, changed } = foldEvents(projection, current, events, (key, event, position) =>
      logger.warn(`event for an unknown ${projection.noun}; ignoring`, { key, type: event.type, ...position }),
    );
    await beforeWrite?.(applied);
    await writeProjection(changed);
    await saveCheckpoints(batches);
    return {
      events: events.length,
      duplicates,
      poison: poison.length,
      jobsChanged: changed.length,
      applied,
      changed: changed.map((c) => c.doc),
    };
  };

  /**
   * Writes are conditional on the position the document had when read, so that if another persister instance
   * advanced it in the meantime (a rebalance hand-over), its newer state is kept.
   */
  async function writeProjection(changes: FoldedDocument<S>[]) {
    if (changes.length === 0) return;
    const operations = changes.map(
      ({ doc, previousOffset }): AnyBulkWriteOperation<{ _id: string; position: LogPosition }> =>
        previousOffset === null
          ? { insertOne: { document: doc } }
          : { replaceOne: { filter: { _id: doc._id, 'position.offset': previousOffset }, replacement: doc } },
    );
    try {
      await documents.bulkWrite(operations, { ordered: false });
    } catch (err) {
      if (!(err instanceof MongoBulkWriteError)) throw err;
      const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
      if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
      logger.warn(`${projection.noun}s were created concurrently by another persister; kept theirs`, {
        count: errors.length,
      });
    }
  }

  async function saveCheckpoints(batches: readonly PartitionBatch[]) {
    const saved = batches.filter((b) => b.messages.length > 0);
    if (saved.length === 0) return;
    const updatedAt = new Date();
    await checkpoints.bulkWrite(
      saved.map(({ partition, messages }) => ({
        updateOne: {
          filter: { _id: checkpointId(topic, partition) },
          update: { $set: { topic, partition, nextOffset: messages.at(-1)!.offset + 1, updatedAt } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }
}

/**
 * The pure step of the fold: advances the documents read (`current`, updated in place) with the events of a batch.
 * Each key's events lie in one partition, so they come in log order; an event at or before the position a document
 * holds is skipped. Each changed document keeps the offset it had before the batch, on which its write is conditional.
 */
export function foldEvents<E extends { type: string }, S>(
  projection: Projection<E, S>,
  current: Map<string, ProjectedDocument<S>>,
  events: readonly { event: E; position: LogPosition }[],
  ignored: (key: string, event: E, position: LogPosition) => void = () => undefined,
): { applied: AppliedEvent<E, S>[]; changed: FoldedDocument<S>[] } {
  const changed = new Map<string, FoldedDocument<S>>();
  const applied: AppliedEvent<E, S>[] = [];
  for (const { event, position } of events) {
    const key = projection.keyOf(event);
    const existing = current.get(key);
    if (existing && existing.position.partition === position.partition && existing.position.offset >= position.offset) {
      continue;
    }
    const before = existing ? projection.fromDocument(existing) : null;
    const after = projection.evolve(before, event);
    if (!after) {
      ignored(key, event, position);
      continue;
    }
    const doc = { ...after, _id: key, position } as ProjectedDocument<S>;
    const earlier = changed.get(key);
    const previousOffset = earlier ? earlier.previousOffset : (existing?.position.offset ?? null);
    current.set(key, doc);
    changed.set(key, { doc, previousOffset });
    applied.push({ event, position, before, after });
  }
  return { applied, changed: [...changed.values()] };
}

/** Inserts documents keyed by a natural id; those already there are left as they are. Returns how many were. */
export async function insertIgnoringDuplicates<T extends { _id: string }>(
  collection: Collection<T>,
  docs: OptionalUnlessRequiredId<T>[],
): Promise<number> {
  if (docs.length === 0) return 0;
  try {
    await collection.insertMany(docs, { ordered: false });
    return 0;
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    if (errors.some((e) => e.code !== DUPLICATE_KEY)) throw err;
    return errors.length;
  }
}
