// Scheduled-job lateness: `BENCH_TIMER_JOBS` `noop` jobs, each due at an instant drawn uniformly from the
// `BENCH_TIMER_SPREAD_S` seconds after it is submitted, and how late each one starts; jobline beside BullMQ delayed
// jobs on the same Redis. Part of `npm run bench` (its `timers` key); `node bench/timers.mjs` runs it alone.
// A benchmark, not a test: a job that starts early or not at all is counted and reported, never a failure.
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Queue } from 'bullmq';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure, root } from '../scripts/local-stack.mjs';
import {
  TOKEN,
  freePort,
  inLanes,
  joblineEnv,
  latencySummary,
  log,
  redisConnection,
  service,
  startProcess,
  stopProcess,
} from './harness.mjs';

const JOBS = Number(process.env.BENCH_TIMER_JOBS ?? 10_000);
const SPREAD_MS = Number(process.env.BENCH_TIMER_SPREAD_S ?? 60) * 1000;
/** Jobs per `POST /v1/jobs/batch`: the producer's default `BATCH_MAX_JOBS`. */
const BATCH = 100;
/** Requests (jobline) or `queue.add` calls (BullMQ) in flight while submitting. */
const IN_FLIGHT = { batches: 8, adds: 50 };
/** The runner's default `RUNNER_CONCURRENCY`, given to the BullMQ worker too. */
const CONCURRENCY = 16;
/** How long after the last due time to wait for jobs still to start before reporting them missing. */
const GRACE_MS = 120_000;

const dueIn = () => Math.round(Math.random() * SPREAD_MS);

/** Polls `done()` until it holds or `deadline` (epoch ms) passes. */
async function waitFor(done, deadline) {
  while (!(await done()) && Date.now() < deadline) await sleep(1000);
}

/** `lateness` holds, for each job that started, its start minus its due time in ms. */
function latenessReport(lateness, submitMs) {
  return {
    jobs: JOBS,
    submitSeconds: submitMs / 1000,
    missing: JOBS - lateness.length,
    earlyStarts: lateness.filter((ms) => ms < 0).length,
    latenessMs: latencySummary(lateness),
  };
}

/**
 * Follows the event topic from its start and keeps each job's first `JobStarted` instant. Reading Kafka rather than
 * polling MongoDB keeps the measurement off the database that the persister and the runner are using.
 */
async function tapStarts(topic, groupId) {
  const kafka = new Kafka({
    clientId: 'bench-timers',
    brokers: process.env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId });
  const tap = { firstStart: new Map(), repeatedStarts: 0, stop: () => consumer.disconnect() };
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = JSON.parse(message.value.toString());
      if (event.type !== 'JobStarted') return;
      const at = Date.parse(event.occurredAt);
      const earlier = tap.firstStart.get(event.jobId);
      // A job may start more than once (at-least-once execution); its lateness is that of its first start.
      if (earlier !== undefined) tap.repeatedStarts += 1;
      if (earlier === undefined || at < earlier) tap.firstStart.set(event.jobId, at);
    },
  });
  return tap;
}

/** Lateness of a job = its first `JobStarted` event's `occurredAt` minus its `runAt`. */
async function benchJobline() {
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  const env = { ...joblineEnv(id, port), LOG_LEVEL: 'info' };
  const producer = await service('producer', env);
  const others = await Promise.all([service('consumer', env), service('runner', env)]);
  const tap = await tapStarts(`${env.KAFKA_TOPIC_PREFIX}job-events`, `bench-${id}-timers`);
  try {
    const runAt = new Map();
    const started = Date.now();
    await inLanes(Math.ceil(JOBS / BATCH), IN_FLIGHT.batches, async (b) => {
      const jobs = Array.from({ length: Math.min(BATCH, JOBS - b * BATCH) }, () => ({
        type: 'noop',
        runAt: new Date(Date.now() + dueIn()).toISOString(),
      }));
      const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ jobs }),
      });
      if (res.status !== 202) throw new Error(`batch submit answered ${res.status}: ${await res.text()}`);
      for (const view of (await res.json()).jobs) runAt.set(view.id, Date.parse(view.runAt));
    });
    const submitMs = Date.now() - started;
    await waitFor(() => tap.firstStart.size >= JOBS, Math.max(...runAt.values()) + GRACE_MS);
    const lateness = [...tap.firstStart]
      .filter(([jobId]) => runAt.has(jobId))
      .map(([jobId, at]) => at - runAt.get(jobId));
    return { ...latenessReport(lateness, submitMs), repeatedStarts: tap.repeatedStarts };
  } finally {
    await tap.stop();
    await Promise.all([producer, ...others].map(stopProcess));
    const mongo = new MongoClient(process.env.MONGODB_URI);
    await mongo.db(env.MONGODB_DB).dropDatabase();
    await mongo.close();
  }
}

/** Lateness of a job = the moment the worker's processor was called minus `job.timestamp + job.opts.delay`. */
async function benchBullmq() {
  const queueName = `bench-timers-${randomUUID().slice(0, 8)}`;
  const worker = await startProcess(
    'bullmq delayed worker',
    [join(root, 'bench', 'bullmq-delayed-worker.mjs'), queueName],
    { CONCURRENCY: String(CONCURRENCY) },
    'ready',
  );
  const queue = new Queue(queueName, { connection: redisConnection() });
  try {
    const started = Date.now();
    await inLanes(JOBS, IN_FLIGHT.adds, () => queue.add('noop', {}, { delay: dueIn() }));
    const submitMs = Date.now() - started;
    await waitFor(async () => (await queue.getCompletedCount()) >= JOBS, Date.now() + SPREAD_MS + GRACE_MS);
    const jobs = await queue.getJobs(['completed'], 0, -1);
    return latenessReport(
      jobs.map((job) => job.returnvalue - (job.timestamp + job.opts.delay)),
      submitMs,
    );
  } finally {
    await stopProcess(worker);
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export async function benchTimers() {
  log(`(d) scheduled-job lateness, ${JOBS} noop jobs due within ${SPREAD_MS / 1000} s: jobline`);
  const jobline = await benchJobline();
  log(`(d) scheduled-job lateness, ${JOBS} noop jobs due within ${SPREAD_MS / 1000} s: BullMQ`);
  const bullmq = await benchBullmq();
  return { settings: { jobs: JOBS, spreadSeconds: SPREAD_MS / 1000, concurrency: CONCURRENCY }, jobline, bullmq };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureInfrastructure(log);
  build();
  benchTimers().then(
    (timers) => {
      const report = { machine: { cpus: cpus().length, node: process.version }, timers };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      log(err.stack ?? String(err));
      process.exit(1);
    },
  );
}
