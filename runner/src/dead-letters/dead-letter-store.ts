import type { Collection, Db, Filter } from 'mongodb';
import { JoblineError, NO_ERROR_CODE, type DeadLetterBulkAction, type Job, type JobEvent } from '@jobline/libs/core';
import { jobFromDocument, type JobDocument, type JoblineCollections } from '@jobline/libs/mongo';
import type { DeadLetterScope, ScanPosition } from './bulk-plan';

/** What a bulk job reads of the dead letters: the `jobs` projection and the stored event ids. */
export interface DeadLetterStore {
  /** How many dead letters the scope holds, counting no further than `limit`. */
  count(scope: DeadLetterScope, limit?: number): Promise<number>;
  /** The next dead letters of the scope after `after`, in the order (deadLetteredAt, id). */
  page(scope: DeadLetterScope, after: ScanPosition | null, size: number): Promise<Job[]>;
  /** Which of these event ids the event history already holds. */
  storedEventIds(eventIds: readonly string[]): Promise<Set<string>>;
}

/**
 * The query of a scope's dead letters after a position. The time range and the position are read off the
 * `{tenantId, status, deadLetteredAt, _id}` index; type and code are checked on the documents it yields. A failed job
 * not dead-lettered yet (its `JobDeadLettered` still on the way) has no `deadLetteredAt` and is not in any range.
 */
export function deadLetterQuery(scope: DeadLetterScope, after: ScanPosition | null): Filter<JobDocument> {
  const and: Filter<JobDocument>[] = [
    { tenantId: scope.tenantId, status: 'failed', deadLetteredAt: { $gte: scope.from ?? '', $lt: scope.to } },
  ];
  if (scope.type !== null) and.push({ type: scope.type });
  if (scope.code === NO_ERROR_CODE) and.push({ $or: [{ 'error.code': scope.code }, { error: null }] });
  else if (scope.code !== null) and.push({ 'error.code': scope.code });
  if (after) {
    and.push({
      $or: [
        { deadLetteredAt: { $gt: after.deadLetteredAt } },
        { deadLetteredAt: after.deadLetteredAt, _id: { $gt: after.id } },
      ],
    });
  }
  return { $and: and };
}

export function mongoDeadLetterStore(collections: Pick<JoblineCollections, 'jobs' | 'jobEvents'>): DeadLetterStore {
  return {
    count: (scope, limit) =>
      collections.jobs.countDocuments(deadLetterQuery(scope, null), limit === undefined ? {} : { limit }),
    async page(scope, after, size) {
      const docs = await collections.jobs
        .find(deadLetterQuery(scope, after))
        .sort({ deadLetteredAt: 1, _id: 1 })
        .limit(size)
        .toArray();
      return docs.map(jobFromDocument);
    },
    async storedEventIds(eventIds) {
      if (eventIds.length === 0) return new Set();
      const found = await collections.jobEvents
        .find({ _id: { $in: [...eventIds] } }, { projection: { _id: 1 } })
        .toArray();
      return new Set(found.map((doc) => doc._id));
    },
  };
}

/**
 * A bulk job's run, kept beside the projection so that a rerun (its runner died, the job was redriven) resumes where
 * the last one stood and counts what it did once. A page's events are staged here before they are published and the
 * page is committed after Kafka acknowledged them: a rerun that finds a page staged publishes the same events again
 * (same ids, same data), which the log then holds once in effect.
 */
export interface BulkRun {
  /** The bulk job's id. */
  _id: string;
  action: DeadLetterBulkAction;
  scope: DeadLetterScope;
  matched: number;
  acted: number;
  /** Where the scan stands: every dead letter up to here is done. */
  after: ScanPosition | null;
  staged: { events: JobEvent[]; after: ScanPosition } | null;
  /** Each write is conditional on it, so that two runs of one bulk job (at-least-once) never both move it on. */
  version: number;
  updatedAt: Date;
}

export interface BulkRunStore {
  load(bulkJobId: string): Promise<BulkRun | null>;
  /** Records a first run; when another run recorded one first, that one. */
  begin(run: Omit<BulkRun, 'version' | 'updatedAt' | 'staged' | 'acted' | 'after'>): Promise<BulkRun>;
  stage(run: BulkRun, staged: NonNullable<BulkRun['staged']>): Promise<BulkRun>;
  /** Marks the staged page done: the scan moves past it and its events count. */
  commit(run: BulkRun): Promise<BulkRun>;
}

const DUPLICATE_KEY = 11000;

export function bulkRunsCollection(db: Db): Collection<BulkRun> {
  return db.collection<BulkRun>('dead_letter_bulk_runs');
}

export function mongoBulkRunStore(runs: Collection<BulkRun>, now: () => Date = () => new Date()): BulkRunStore {
  /** Writes the next version of a run, unless another run of the same bulk job wrote one since it was read. */
  async function advance(run: BulkRun, next: Pick<BulkRun, 'acted' | 'after' | 'staged'>): Promise<BulkRun> {
    const updated: BulkRun = { ...run, ...next, version: run.version + 1, updatedAt: now() };
    const { matchedCount } = await runs.updateOne(
      { _id: run._id, version: run.version },
      {
        $set: {
          acted: updated.acted,
          after: updated.after,
          staged: updated.staged,
          version: updated.version,
          updatedAt: updated.updatedAt,
        },
      },
    );
    if (matchedCount === 0) {
      throw new JoblineError('HANDLER_FAILED', `another run of bulk job ${run._id} moved it on; this one stops`, {
        retryable: true,
      });
    }
    return updated;
  }

  return {
    load: (bulkJobId) => runs.findOne({ _id: bulkJobId }),
    async begin(first) {
      const run: BulkRun = { ...first, acted: 0, after: null, staged: null, version: 0, updatedAt: now() };
      try {
        await runs.insertOne(run);
        return run;
      } catch (err) {
        if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
        return (await runs.findOne({ _id: first._id }))!;
      }
    },
    stage: (run, staged) => advance(run, { acted: run.acted, after: run.after, staged }),
    commit(run) {
      if (!run.staged) return Promise.resolve(run);
      return advance(run, { acted: run.acted + run.staged.events.length, after: run.staged.after, staged: null });
    },
  };
}
