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
} from '@jobline/libs';
import type { Admin } from 'kafkajs';
import { compareProjections, type JobDifference } from './compare-projections';
import { loadConsumerConfig } from './config';
import { replayEventLog } from './replay';
import { createProgressReporter, type ProgressStream } from './replay-progress';

export const EXIT_SAME = 0;
export const EXIT_DIFFERENCES = 1;
/** Bad arguments or configuration, or a target database that is not fresh or is the live one. */
export const EXIT_REFUSED = 2;
/** Kafka or MongoDB failed during the replay. */
export const EXIT_FAILED = 3;

const USAGE = `usage: npm run replay -- --from-beginning --into <database> [--force]

Folds the event topic, from the beginning up to its high-water marks at start, into the fresh MongoDB database
<database> with the persister's code, then compares the rebuilt jobs with the live projection (MONGODB_DB).
Kafka and MongoDB are those of the consumer's configuration (KAFKA_BROKERS, KAFKA_TOPIC_PREFIX, MONGODB_URI, ...).

  --from-beginning  replay the whole topic (the only mode so far; required, to say so)
  --into <name>     database to rebuild; refused when it holds jobs or events, or is MONGODB_DB
  --force           empty <name> first instead of refusing it

Prints each difference, then one JSON line {events, jobs, seconds, eventsPerSecond, differences, ...} on stdout.
Exit code: 0 same, 1 differences, 2 refused, 3 failed.
`;

export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
}

class Refusal extends Error {}

/** Runs `replay` with these arguments and returns the exit code. Nothing here calls `process.exit`. */
export async function runReplayCli(
  argv: string[],
  env: Env = process.env,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let into: string;
  let force: boolean;
  let config: ReturnType<typeof loadConsumerConfig>;
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        'from-beginning': { type: 'boolean', default: false },
        into: { type: 'string' },
        force: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      io.stdout.write(USAGE);
      return EXIT_SAME;
    }
    if (!values['from-beginning']) throw new Refusal('--from-beginning is required (the only replay mode so far)');
    if (!values.into) throw new Refusal('--into <database> is required');
    if (!/^[^/\\. "$*<>:|?]{1,63}$/.test(values.into)) throw new Refusal(`--into ${values.into}: not a database name`);
    config = loadConsumerConfig(env);
    if (values.into === config.MONGODB_DB) {
      throw new Refusal(`--into ${values.into} is the live database (MONGODB_DB); replay needs a fresh one`);
    }
    into = values.into;
    force = values.force;
  } catch (err) {
    io.stderr.write(`replay: ${(err as Error).message}\n\n${USAGE}`);
    return EXIT_REFUSED;
  }

  const logger = createLogger({ service: 'replay', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  logToStderr(logger);
  const topic = topicNames(config.KAFKA_TOPIC_PREFIX).events;
  const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'jobline-replay', logger });
  let admin: Admin | undefined;
  let mongo: MongoConnection | undefined;
  try {
    admin = kafka.admin();
    await admin.connect();
    mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB);
    const target = mongo.client.db(into);
    const progress = createProgressReporter(io.stderr);
    const replay = await replayEventLog({ kafka, admin, topic, target, force, logger, onProgress: progress.update });
    progress.finish();

    const comparison = await compareProjections({
      live: joblineCollections(mongo.db),
      rebuilt: joblineCollections(target),
      topic,
      highWaterMarks: replay.highWaterMarks,
    });
    for (const difference of comparison.differences) io.stdout.write(`${describe(difference)}\n`);
    if (comparison.changedAfterReplay > 0) {
      io.stderr.write(
        `replay: ${comparison.changedAfterReplay} live jobs changed after the high-water marks; not compared\n`,
      );
    }
    if (comparison.liveBehind > 0) {
      io.stderr.write(`replay: the live persister has not reached ${comparison.liveBehind} jobs yet; not compared\n`);
    }
    if (replay.undecodable > 0) io.stderr.write(`replay: ${replay.undecodable} undecodable messages skipped\n`);

    const summary = {
      events: replay.events,
      jobs: replay.jobs,
      seconds: Math.round(replay.seconds * 1000) / 1000,
      eventsPerSecond: replay.seconds > 0 ? Math.round(replay.events / replay.seconds) : 0,
      differences: comparison.differences.length,
      compared: comparison.compared,
      changedAfterReplay: comparison.changedAfterReplay,
      liveBehind: comparison.liveBehind,
      undecodable: replay.undecodable,
      topic,
      into,
    };
    io.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.differences === 0 ? EXIT_SAME : EXIT_DIFFERENCES;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(`\nreplay: ${message}\n`);
    return isJoblineError(err) && err.code === 'VALIDATION_FAILED' ? EXIT_REFUSED : EXIT_FAILED;
  } finally {
    await Promise.allSettled([admin?.disconnect(), mongo?.client.close()]);
  }
}

function describe(difference: JobDifference): string {
  switch (difference.kind) {
    case 'missing':
      return `missing ${difference.jobId}: live at ${at(difference.live)}, not rebuilt`;
    case 'extra':
      return `extra   ${difference.jobId}: rebuilt at ${at(difference.rebuilt)}, not in the live projection`;
    case 'differs':
      return `differs ${difference.jobId}: ${difference.fields
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
