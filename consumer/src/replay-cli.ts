import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import {
  connectMongo,
  createKafka,
  createLogger,
  isJoblineError,
  joblineCollections,
  topicNames,
  type Env,
  type Logger,
  type MongoConnection,
  type TopicNames,
} from '@jobline/libs';
import type { Admin, Kafka } from 'kafkajs';
import { compareProjection, type ProjectionDifference } from './compare-projections';
import { loadConsumerConfig } from './config';
import { exportEvents, type TimeRange } from './export-events';
import {
  PROJECTIONS,
  projectionCollections,
  replayEventLog,
  type ProjectionName,
  type ProjectionProgress,
} from './replay';
import { createProgressReporter, type ProgressReporter, type ProgressStream } from './replay-progress';

export const EXIT_SAME = 0;
export const EXIT_DIFFERENCES = 1;
/** Bad arguments or configuration, or a target database that is not fresh or is the live one. */
export const EXIT_REFUSED = 2;
/** Kafka or MongoDB failed during the replay. */
export const EXIT_FAILED = 3;

const USAGE = `usage:
  npm run replay -- --from-beginning --into <database> [--force]
  npm run replay -- --export --since <time> [--until <time>] [--out <file>]
  npm run replay -- --help

Rebuild and compare (--from-beginning --into): folds each event-sourced projection's topic (jobs from job-events,
schedules from schedule-events, pauses from pause-events), from the beginning up to its high-water marks at start,
into the fresh MongoDB database <database> with the persisters' code, then compares the rebuilt jobs, schedules and
pauses with the live projections (MONGODB_DB), field by field.

  --from-beginning  replay the whole topics (required, to say so)
  --into <name>     database to rebuild; refused when it holds jobs, schedules, pauses or their events, or is
                    MONGODB_DB
  --force           empty <name> first instead of refusing it

  Prints progress per projection on stderr, each difference (missing, extra, differs) on stdout, then one JSON line
  {events, jobs, schedules, pauses, seconds, eventsPerSecond, differences, ..., projections} on stdout, with the
  figures of each projection under projections. Exit code: 0 same, 1 differences, 2 refused, 3 failed.

Export (--export): writes every job event whose occurredAt is in [--since, --until) as NDJSON, one event per line,
each once, valid against its JSON Schema in docs/events/. Reads the whole job-events topic up to its high-water marks
at start.

  --since <time>    ISO 8601 (2026-12-01, 2026-12-01T08:00:00Z, 2026-12-01T09:00:00+01:00); required
  --until <time>    excluded; defaults to now
  --out <file>      write the events there, and one JSON summary line {events, repeated, undecodable, scanned,
                    seconds, ...} to stdout; without it the events go to stdout and the summary to stderr

  Exit code: 0 written, 2 refused, 3 failed.

Kafka and MongoDB are those of the consumer's configuration (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, MONGODB_URI,
MONGODB_DB, ...). Both read under a consumer group of their own, commit no offsets and write nothing to Kafka or Redis.
Progress goes to stderr. The event schemas: docs/events/*.schema.json; the guide: docs/replay.md.
`;

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
}

class Refusal extends Error {}

type Command =
  | { mode: 'help' }
  | { mode: 'rebuild'; into: string; force: boolean }
  | { mode: 'export'; range: TimeRange; out: string | undefined };

function parseCommand(argv: string[]): Command {
  const { values } = parseArgs({
    args: argv,
    options: {
      'from-beginning': { type: 'boolean', default: false },
      into: { type: 'string' },
      force: { type: 'boolean', default: false },
      export: { type: 'boolean', default: false },
      since: { type: 'string' },
      until: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return { mode: 'help' };
  if (values.export) {
    const mixed = (['from-beginning', 'into', 'force'] as const).filter((o) => values[o]);
    if (mixed.length > 0) throw new Refusal(`--export takes no --${mixed.join(', --')}`);
    if (!values.since) throw new Refusal('--export needs --since <time>');
    const since = parseTime('--since', values.since);
    const until = values.until === undefined ? new Date() : parseTime('--until', values.until);
    if (until <= since) throw new Refusal(`--until ${until.toISOString()} is not after --since ${since.toISOString()}`);
    if (values.out === '') throw new Refusal('--out needs a file name');
    return { mode: 'export', range: { since, until }, out: values.out };
  }
  const stray = (['since', 'until', 'out'] as const).filter((o) => values[o] !== undefined);
  if (stray.length > 0) throw new Refusal(`--${stray.join(', --')} only go with --export`);
  if (!values['from-beginning']) throw new Refusal('--from-beginning is required (or --export, or --help)');
  if (!values.into) throw new Refusal('--into <database> is required');
  if (!/^[^/\\. "$*<>:|?]{1,63}$/.test(values.into)) throw new Refusal(`--into ${values.into}: not a database name`);
  return { mode: 'rebuild', into: values.into, force: values.force };
}

/** An ISO 8601 date or date-time; a date-time names its offset (`Z`, `+01:00`), so that no machine's zone decides. */
function parseTime(option: string, text: string): Date {
  const iso = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  const at = new Date(iso ? text : NaN);
  // Date rolls 2026-02-30 over into March instead of refusing it.
  const [year, month, day] = (iso ?? []).slice(1, 4).map(Number);
  const real = new Date(Date.UTC(year!, month! - 1, day!)).getUTCDate() === day;
  if (!iso || !real || Number.isNaN(at.getTime())) {
    throw new Refusal(`${option} ${text}: not an ISO 8601 date (2026-12-01) or date-time with an offset (…T08:00:00Z)`);
  }
  return at;
}

/** Runs `replay` with these arguments and returns the exit code. Nothing here calls `process.exit`. */
export async function runReplayCli(
  argv: string[],
  env: Env = process.env,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let command: Command;
  let config: ReturnType<typeof loadConsumerConfig>;
  try {
    command = parseCommand(argv);
    if (command.mode === 'help') {
      io.stdout.write(USAGE);
      return EXIT_SAME;
    }
    config = loadConsumerConfig(env);
    if (command.mode === 'rebuild' && command.into === config.MONGODB_DB) {
      throw new Refusal(`--into ${command.into} is the live database (MONGODB_DB); replay needs a fresh one`);
    }
  } catch (err) {
    io.stderr.write(`replay: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_REFUSED;
  }

  const logger = createLogger({ service: 'replay', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  logToStderr(logger);
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-replay', logger });
  let admin: Admin | undefined;
  let mongo: MongoConnection | undefined;
  try {
    admin = kafka.admin();
    await admin.connect();
    if (command.mode === 'export') return await runExport({ kafka, admin, topics, logger }, command, io);
    mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
    return await runRebuild({ kafka, admin, topics, logger, mongo }, command, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`\nreplay: ${message}\n`);
    return isJoblineError(err) && err.code === 'VALIDATION_FAILED' ? EXIT_REFUSED : EXIT_FAILED;
  } finally {
    await Promise.allSettled([admin?.disconnect(), mongo?.client.close()]);
  }
}

interface Connected {
  kafka: Kafka;
  admin: Admin;
  topics: TopicNames;
  logger: Logger;
}

/** One projection's line in the summary: what was replayed from its topic, and how it compares with the live one. */
interface ProjectionFigures {
  topic: string;
  events: number;
  documents: number;
  differences: number;
  compared: number;
  changedAfterReplay: number;
  liveBehind: number;
  undecodable: number;
}

async function runRebuild(
  { kafka, admin, topics, logger, mongo }: Connected & { mongo: MongoConnection },
  { into, force }: { into: string; force: boolean },
  io: CliIo,
): Promise<number> {
  const target = mongo.client.db(into);
  // The projections are replayed one after another: each gets its own progress line, left when the next starts.
  let progress: { projection: ProjectionName; reporter: ProgressReporter } | undefined;
  const onProgress = (update: ProjectionProgress) => {
    if (progress?.projection !== update.projection) {
      progress?.reporter.finish();
      progress = {
        projection: update.projection,
        reporter: createProgressReporter(io.stderr, { label: update.projection }),
      };
    }
    progress.reporter.update(update);
  };
  const replay = await replayEventLog({ kafka, admin, topics, target, force, logger, onProgress });
  progress?.reporter.finish();

  const live = projectionCollections(mongo.db);
  const rebuilt = projectionCollections(target);
  const liveCheckpoints = joblineCollections(mongo.db).checkpoints;
  const projections = {} as Record<ProjectionName, ProjectionFigures>;
  for (const projection of PROJECTIONS) {
    const replayed = replay.projections[projection];
    const comparison = await compareProjection({
      live: live[projection],
      rebuilt: rebuilt[projection],
      liveCheckpoints,
      topic: replayed.topic,
      highWaterMarks: replayed.highWaterMarks,
    });
    for (const difference of comparison.differences) io.stdout.write(`${describe(projection, difference)}\n`);
    if (comparison.changedAfterReplay > 0) {
      io.stderr.write(
        `replay: ${comparison.changedAfterReplay} live ${projection} changed after the high-water marks; not compared\n`,
      );
    }
    if (comparison.liveBehind > 0) {
      io.stderr.write(
        `replay: the live persister has not reached ${comparison.liveBehind} ${projection} yet; not compared\n`,
      );
    }
    if (replayed.undecodable > 0) {
      io.stderr.write(`replay: ${replayed.undecodable} undecodable messages skipped (${replayed.topic})\n`);
    }
    projections[projection] = {
      topic: replayed.topic,
      events: replayed.events,
      documents: replayed.documents,
      differences: comparison.differences.length,
      compared: comparison.compared,
      changedAfterReplay: comparison.changedAfterReplay,
      liveBehind: comparison.liveBehind,
      undecodable: replayed.undecodable,
    };
  }

  const sum = (field: 'differences' | 'compared' | 'changedAfterReplay' | 'liveBehind') =>
    PROJECTIONS.reduce((total, p) => total + projections[p][field], 0);
  const summary = {
    events: replay.events,
    jobs: replay.jobs,
    schedules: replay.schedules,
    pauses: replay.pauses,
    seconds: Math.round(replay.seconds * 1000) / 1000,
    eventsPerSecond: replay.seconds > 0 ? Math.round(replay.events / replay.seconds) : 0,
    differences: sum('differences'),
    compared: sum('compared'),
    changedAfterReplay: sum('changedAfterReplay'),
    liveBehind: sum('liveBehind'),
    undecodable: replay.undecodable,
    into,
    projections,
  };
  io.stdout.write(`${JSON.stringify(summary)}\n`);
  return summary.differences === 0 ? EXIT_SAME : EXIT_DIFFERENCES;
}

async function runExport(
  { kafka, admin, topics, logger }: Connected,
  { range, out }: { range: TimeRange; out: string | undefined },
  io: CliIo,
): Promise<number> {
  const topic = topics.events;
  // The events take stdout unless they go to a file; the summary takes whichever of stdout and stderr is left.
  const file = out === undefined ? undefined : createWriteStream(out);
  if (file) await once(file, 'open');
  const sink = file ?? io.stdout;
  const report = file ? io.stdout : io.stderr;
  const write = async (lines: string) => {
    if (sink.write(lines) === false) await once(sink as NodeJS.EventEmitter, 'drain');
  };
  const progress = createProgressReporter(io.stderr);
  try {
    const result = await exportEvents({ kafka, admin, topic, range, write, logger, onProgress: progress.update });
    progress.finish();
    if (file) await finished(file.end());
    const summary = {
      events: result.events,
      repeated: result.repeated,
      undecodable: result.undecodable,
      scanned: result.scanned,
      seconds: Math.round(result.seconds * 1000) / 1000,
      since: range.since.toISOString(),
      until: range.until.toISOString(),
      topic,
      ...(out === undefined ? {} : { out }),
    };
    report.write(`${JSON.stringify(summary)}\n`);
    return EXIT_SAME;
  } finally {
    file?.destroy();
  }
}

/** Job lines name the job alone, as they always have; the others say what their id is of. */
const DOCUMENT_LABEL: Record<ProjectionName, string> = { jobs: '', schedules: 'schedule ', pauses: 'pause scope ' };

function describe(projection: ProjectionName, difference: ProjectionDifference): string {
  const id = `${DOCUMENT_LABEL[projection]}${difference.id}`;
  switch (difference.kind) {
    case 'missing':
      return `missing ${id}: live at ${at(difference.live)}, not rebuilt`;
    case 'extra':
      return `extra   ${id}: rebuilt at ${at(difference.rebuilt)}, not in the live projection`;
    case 'differs':
      return `differs ${id}: ${difference.fields
        .map((f) => `${f.field} live ${brief(f.live)} rebuilt ${brief(f.rebuilt)}`)
        .join('; ')}`;
    default: {
      const _never: never = difference;
      return _never;
    }
  }
}

const at = (p: { partition: number; offset: number }) => `partition ${p.partition} offset ${p.offset}`;

function brief(value: unknown): string {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * stdout carries the report (difference lines, then the JSON summary), so every log line goes to stderr. The shared
 * logger sends all but errors to stdout; its console transports are told otherwise here.
 */
function logToStderr(logger: Logger) {
  const everyLevel = Object.fromEntries(Object.keys(logger.levels).map((level) => [level, true]));
  for (const transport of logger.transports) {
    if ('stderrLevels' in transport) Object.assign(transport, { stderrLevels: everyLevel });
  }
}

if (require.main === module) {
  void runReplayCli(process.argv.slice(2)).then((code) => process.exit(code));
}
