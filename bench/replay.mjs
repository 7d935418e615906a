// Replay figures: N events (BENCH_REPLAY_EVENTS, 50000; five per job) published to a fresh event topic, then
// (a) read raw by a kafkajs consumer that only counts (the ceiling set by Kafka and the client), and
// (b) replayed into a fresh database with the replay's own code (consumer/dist/replay.js), events/s and the ratio.
// Both time the whole read, connection and group join included (a small share of the replay's time, a large one of
// the raw read's, so the ratio errs in the replay's favour). `node bench/replay.mjs` runs this part alone; `npm run bench` runs it as its part (e).
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure } from '../scripts/local-stack.mjs';

const EVENTS_PER_JOB = 5;

/** The built code (imported once the build has run, so that a fresh checkout can bench). */
async function loadBuilt() {
  return {
    libs: await import('@jobline/libs'),
    ...(await import('../consumer/dist/replay.js')),
    ...(await import('../consumer/dist/config.js')),
  };
}

/** A noop job's life: requested, started, two progress reports, completed. */
function jobHistory({ newEvent, DEFAULT_BACKOFF }, n, start) {
  const jobId = randomUUID();
  const ctx = (ms) => ({ jobId, tenantId: `tenant-${n % 10}`, source: 'runner', now: new Date(start + ms) });
  const running = { attempt: 1, total: 2, message: null };
  return [
    newEvent(
      'JobRequested',
      { ...ctx(0), source: 'producer' },
      {
        type: 'noop',
        payload: {},
        runAt: null,
        maxAttempts: 3,
        backoff: DEFAULT_BACKOFF,
        timeoutMs: null,
        callbackUrl: null,
        notify: null,
        metadata: { batch: String(Math.floor(n / 1000)) },
        idempotencyKey: null,
      },
    ),
    newEvent('JobStarted', ctx(5), { attempt: 1, runnerId: `runner-${n % 4}` }),
    newEvent('JobProgressed', ctx(10), { ...running, current: 1 }),
    newEvent('JobProgressed', ctx(15), { ...running, current: 2 }),
    newEvent('JobCompleted', ctx(20), { attempt: 1, result: { n }, resultUrl: null }),
  ];
}

/** Publishes the jobs a thousand at a time, their events interleaved as on a busy log. */
async function publishJobs(libs, publisher, jobs) {
  const start = Date.now();
  for (let first = 0; first < jobs; first += 1000) {
    const histories = Array.from({ length: Math.min(1000, jobs - first) }, (_, i) =>
      jobHistory(libs, first + i, start),
    );
    const events = Array.from({ length: EVENTS_PER_JOB }, (_, step) => histories.map((h) => h[step])).flat();
    const chunks = Array.from({ length: Math.ceil(events.length / 500) }, (_, i) =>
      events.slice(i * 500, i * 500 + 500),
    );
    await Promise.all(chunks.map((chunk) => publisher.publish(chunk)));
  }
}

function rate(events, seconds) {
  return { seconds, eventsPerSec: Math.round(events / seconds) };
}

/** Reads the topic from the beginning, counting messages and nothing else, until `total`. */
async function rawConsume(kafka, admin, topic, total, partitions) {
  const groupId = `bench-raw-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  const started = performance.now();
  let count = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: partitions,
    eachBatch: async ({ batch }) => {
      count += batch.messages.length;
      if (count >= total) done();
    },
  });
  await finished;
  const ended = performance.now();
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => undefined);
  return { events: count, ...rate(count, (ended - started) / 1000) };
}

/**
 * @param {{ events?: number, log?: (message: string) => void }} options
 */
export async function benchReplay({ events = Number(process.env.BENCH_REPLAY_EVENTS ?? 50_000), log = () => {} } = {}) {
  const { libs, replayEventLog, loadConsumerConfig } = await loadBuilt();
  const config = loadConsumerConfig();
  const jobs = Math.ceil(events / EVENTS_PER_JOB);
  const id = randomUUID().slice(0, 8);
  const topics = libs.topicNames(`bench-replay-${id}.`);
  const partitions = config.KAFKA_EVENT_PARTITIONS;
  // Errors only, which go to stderr: stdout carries the bench's JSON.
  const logger = libs.createLogger({ service: 'bench', level: 'error' });
  const kafka = libs.createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'bench-replay', logger });
  const admin = kafka.admin();
  const publisher = libs.createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 30_000 });
  const mongo = new MongoClient(config.MONGODB_URI);
  // No other database's name begins with this one (the local stack's server would drop those along with it).
  const target = mongo.db(`benchreplay_${id}`);
  try {
    await Promise.all([admin.connect(), publisher.connect(), mongo.connect()]);
    await libs.ensureTopics(admin, topics, { eventPartitions: partitions, replicationFactor: 1 }, logger);
    log(`replay: publishing ${jobs * EVENTS_PER_JOB} events of ${jobs} jobs`);
    const publishStarted = performance.now();
    await publishJobs(libs, publisher, jobs);
    const publishSeconds = (performance.now() - publishStarted) / 1000;
    const total = jobs * EVENTS_PER_JOB;

    log('replay: raw kafkajs consume');
    const raw = await rawConsume(kafka, admin, topics.events, total, partitions);

    log('replay: replay into a fresh database');
    const replay = await replayEventLog({ kafka, admin, topics, target, logger });
    if (replay.events !== total || replay.jobs !== jobs) {
      throw new Error(`replay folded ${replay.events} events into ${replay.jobs} jobs; expected ${total} and ${jobs}`);
    }
    const replayRate = rate(replay.events, replay.seconds);
    return {
      events: total,
      jobs,
      partitions,
      publish: { seconds: publishSeconds, eventsPerSec: Math.round(total / publishSeconds) },
      rawConsume: raw,
      replay: { events: replay.events, jobs: replay.jobs, ...replayRate },
      ratioEventsPerSec: ratio(replayRate.eventsPerSec, raw.eventsPerSec),
    };
  } finally {
    await admin.deleteTopics({ topics: libs.allTopics(topics) }).catch(() => undefined);
    await target.dropDatabase().catch(() => undefined);
    await Promise.allSettled([admin.disconnect(), publisher.disconnect(), mongo.close()]);
  }
}

/** Three decimals: replay runs at a small fraction of the raw rate, which two would round to nothing. */
const ratio = (a, b) => Math.round((a / b) * 1000) / 1000;

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const log = (message) => process.stderr.write(`[bench] ${message}\n`);
  ensureInfrastructure(log);
  build();
  benchReplay({ log }).then(
    (figures) => process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`),
    (err) => {
      log(err.stack ?? String(err));
      process.exitCode = 1;
    },
  );
}
