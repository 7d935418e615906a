import type { Admin, Kafka } from 'kafkajs';
import type { Collection, Db } from 'mongodb';
import {
  ensureIndexes,
  ensurePauseIndexes,
  ensureScheduleIndexes,
  joblineCollections,
  JoblineError,
  pauseCollections,
  scheduleCollections,
  type JobCache,
  type Logger,
  type TopicNames,
} from '@jobline/libs';
import type { PartitionBatch, PersistResult, PoisonMessage, ProjectedDocument } from './fold-projection';
import { createBatchPersister } from './persist-batch';
import { createPausePersister } from './persist-pauses';
import { createSchedulePersister } from './persist-schedules';
import { readEventLog, type HighWaterMarks } from './read-event-log';

export type { HighWaterMarks } from './read-event-log';

/** The event-sourced projections a replay rebuilds, each a collection folded from a topic of its own. */
export const PROJECTIONS = ['jobs', 'schedules', 'pauses'] as const;
export type ProjectionName = (typeof PROJECTIONS)[number];

export interface ReplayProgress {
  /** Messages folded so far, undecodable ones included. */
  done: number;
  /** Messages below the high-water marks. */
  total: number;
  elapsedMs: number;
}

/** The progress of the projection being rebuilt; `elapsedMs` counts from the start of its topic. */
export interface ProjectionProgress extends ReplayProgress {
  projection: ProjectionName;
}

export interface ReplayOptions {
  kafka: Kafka;
  admin: Admin;
  /** The event topics: `events` (required to exist), `schedules` and `pauses` (a missing one holds nothing). */
  topics: Pick<TopicNames, 'events' | 'schedules' | 'pauses'>;
  /** The database to rebuild. It must hold no jobs, schedules, pauses or events, unless `force`. */
  target: Db;
  /** Empties `target` first instead of refusing a database that is not fresh. @defaultValue false */
  force?: boolean;
  logger: Logger;
  /** Called as each projection starts (done 0) and after each batch; the projections come one after another. */
  onProgress?: (progress: ProjectionProgress) => void;
  /** Milliseconds from an arbitrary origin, for the timings. @defaultValue `performance.now` */
  clock?: () => number;
}

export interface ProjectionReplay {
  topic: string;
  /** Events folded into the target. */
  events: number;
  /** Messages that could not be decoded: counted, never written to the quarantine topic. */
  undecodable: number;
  /** Documents in the rebuilt collection. */
  documents: number;
  highWaterMarks: HighWaterMarks;
  seconds: number;
}

export interface ReplayResult {
  /** Events folded into the target, of all three topics. */
  events: number;
  /** Undecodable messages of all three topics. */
  undecodable: number;
  /** Jobs in the rebuilt projection. */
  jobs: number;
  schedules: number;
  /** Pause scopes (a tenant, or one of its job types, ever paused or resumed). */
  pauses: number;
  projections: Record<ProjectionName, ProjectionReplay>;
  seconds: number;
}

/** A replay refreshes no cache: the views it folds are those of a database nobody reads yet. */
const noCache: JobCache = {
  putIfAbsent: async () => undefined,
  putNewer: async () => undefined,
  putUnlessPersisted: async () => false,
  evict: async () => undefined,
  get: async () => null,
};

type Persist = (batches: readonly PartitionBatch[]) => Promise<PersistResult>;

/** The collection of each projection in a database, by the names the persisters write under. */
export function projectionCollections(db: Db): Record<ProjectionName, Collection<ProjectedDocument>> {
  const named = (collection: { collectionName: string }) => db.collection<ProjectedDocument>(collection.collectionName);
  return {
    jobs: named(joblineCollections(db).jobs),
    schedules: named(scheduleCollections(db).schedules),
    pauses: named(pauseCollections(db).pauses),
  };
}

/**
 * Folds each event topic (jobs', schedules', pauses'), from the beginning up to the high-water marks taken when its
 * reading starts (`readEventLog`), into a fresh database with the persisters' own code (`createBatchPersister`,
 * `createSchedulePersister`, `createPausePersister`), so that the rebuilt projections can be held against the live
 * ones. The topics are read one after another; no projection depends on another's.
 */
export async function replayEventLog(options: ReplayOptions): Promise<ReplayResult> {
  const { kafka, admin, topics, target, logger } = options;
  const clock = options.clock ?? (() => performance.now());
  const started = clock();
  const existing = new Set(await admin.listTopics());
  if (!existing.has(topics.events)) {
    throw new JoblineError('VALIDATION_FAILED', `nothing to replay: the topic ${topics.events} does not exist`);
  }
  await prepareTarget(target, options.force ?? false);
  const jobs = joblineCollections(target);
  const schedules = scheduleCollections(target);
  const pauses = pauseCollections(target);
  await Promise.all([ensureIndexes(jobs), ensureScheduleIndexes(schedules), ensurePauseIndexes(pauses)]);

  const undecodable: Record<ProjectionName, number> = { jobs: 0, schedules: 0, pauses: 0 };
  const quarantine = (projection: ProjectionName) => async (messages: PoisonMessage[]) => {
    undecodable[projection] += messages.length;
  };
  const folds: Record<ProjectionName, { topic: string; persist: Persist }> = {
    jobs: {
      topic: topics.events,
      persist: createBatchPersister({
        collections: jobs,
        cache: noCache,
        topic: topics.events,
        logger,
        quarantine: quarantine('jobs'),
      }),
    },
    schedules: {
      topic: topics.schedules,
      persist: createSchedulePersister({
        collections: schedules,
        topic: topics.schedules,
        logger,
        quarantine: quarantine('schedules'),
      }),
    },
    pauses: {
      topic: topics.pauses,
      persist: createPausePersister({
        collections: pauses,
        topic: topics.pauses,
        logger,
        quarantine: quarantine('pauses'),
      }),
    },
  };
  const documents = projectionCollections(target);

  const projections = {} as Record<ProjectionName, ProjectionReplay>;
  for (const projection of PROJECTIONS) {
    const { topic, persist } = folds[projection];
    const from = clock();
    let done = 0;
    let total = 0;
    let events = 0;
    const progress = () => options.onProgress?.({ projection, done, total, elapsedMs: clock() - from });
    const highWaterMarks = existing.has(topic)
      ? await readEventLog({
          kafka,
          admin,
          topic,
          logger,
          purpose: 'replay',
          onStart: (_marks, messages) => {
            total = messages;
            progress();
          },
          onMessages: async (partition, messages) => {
            const result = await persist([{ partition, messages }]);
            events += result.events;
            done += messages.length;
            progress();
          },
        })
      : new Map<number, number>();
    projections[projection] = {
      topic,
      events,
      undecodable: undecodable[projection],
      documents: await documents[projection].countDocuments(),
      highWaterMarks,
      seconds: (clock() - from) / 1000,
    };
  }

  const sum = (field: 'events' | 'undecodable') => PROJECTIONS.reduce((n, p) => n + projections[p][field], 0);
  return {
    events: sum('events'),
    undecodable: sum('undecodable'),
    jobs: projections.jobs.documents,
    schedules: projections.schedules.documents,
    pauses: projections.pauses.documents,
    projections,
    seconds: (clock() - started) / 1000,
  };
}

/** A replay into documents that already hold positions would skip events and prove nothing. */
async function prepareTarget(target: Db, force: boolean) {
  const { jobs, jobEvents, checkpoints } = joblineCollections(target);
  const { schedules, scheduleEvents } = scheduleCollections(target);
  const { pauses } = pauseCollections(target);
  const folded = { jobs, 'job events': jobEvents, schedules, 'schedule events': scheduleEvents, pauses };
  if (force) {
    // Emptied, not dropped: the local stack's MongoDB-compatible server, dropping a database, also wipes every database
    // whose name begins with that one's (dropping a target `jobline` would wipe a live `jobline_eu`).
    await Promise.all([...Object.values(folded), checkpoints].map((c) => c.deleteMany({})));
    return;
  }
  const counts = await Promise.all(
    Object.entries(folded).map(async ([name, c]) => [name, await c.estimatedDocumentCount()] as const),
  );
  if (counts.every(([, count]) => count === 0)) return;
  throw new JoblineError(
    'VALIDATION_FAILED',
    `the database ${target.databaseName} is not fresh (${counts.map(([name, count]) => `${count} ${name}`).join(', ')}): ` +
      'replay into another one, or pass --force to empty it first',
    { details: [{ field: 'into', message: 'database is not empty', code: 'target_not_empty' }] },
  );
}
