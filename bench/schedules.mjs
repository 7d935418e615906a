// Fire lateness of schedules: `BENCH_SCHEDULES` schedules, each firing every 5 seconds on a cron expression with
// seconds (`<i % 5>-59/5 * * * * *`, so that fires spread over every second), and how late each fire is, over
// `BENCH_SCHEDULE_WINDOW_S` seconds after a warm-up; jobline beside BullMQ job schedulers (its repeatable jobs) with the
// same patterns on the same Redis. Part of `npm run bench` (its `schedules` key); `node bench/schedules.mjs` runs it
// alone. A benchmark, not a test: nothing fails on a time.
//   jobline, fire: the fire's JobRequested (its occurredAt, when the runner holding the schedule made it) minus the
//     fire time; start: the job's first JobStarted minus the fire time.
//   BullMQ: the moment the worker's processor was called minus the fire time (`opts.prevMillis`).
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

const SCHEDULES = Number(process.env.BENCH_SCHEDULES ?? 1000);
const WARMUP_MS = Number(process.env.BENCH_SCHEDULE_WARMUP_S ?? 10) * 1000;
const WINDOW_MS = Number(process.env.BENCH_SCHEDULE_WINDOW_S ?? 30) * 1000;
const PERIOD_S = 5;
/** The runner's default `RUNNER_CONCURRENCY`, given to the BullMQ worker too. */
const CONCURRENCY = 16;
const pattern = (i) => `${i % PERIOD_S}-59/${PERIOD_S} * * * * *`;

/** Fires whose time lies in the measured window, and how many of them there should have been. */
function report(lateness, window) {
  const expected = Math.round((SCHEDULES * (window.to - window.from)) / (PERIOD_S * 1000));
  return {
    fires: lateness.length,
    expected,
    early: lateness.filter((ms) => ms < 0).length,
    latenessMs: latencySummary(lateness),
  };
}

/** Follows the event topic: each fire's JobRequested instant and its job's first JobStarted instant, by fire. */
async function tapFires(topic, groupId) {
  const kafka = new Kafka({
    clientId: 'bench-schedules',
    brokers: process.env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId });
  const tap = { requested: new Map(), started: new Map(), repeatedRequests: 0, stop: () => consumer.disconnect() };
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = JSON.parse(message.value.toString());
      const at = Date.parse(event.occurredAt);
      if (event.type === 'JobRequested' && event.data.metadata['jobline-fire-at']) {
        if (tap.requested.has(event.jobId)) tap.repeatedRequests += 1;
        else tap.requested.set(event.jobId, { at, fireAt: Date.parse(event.data.metadata['jobline-fire-at']) });
      } else if (event.type === 'JobStarted' && !tap.started.has(event.jobId)) {
        tap.started.set(event.jobId, at);
      }
    },
  });
  return tap;
}

async function benchJobline() {
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  const env = { ...joblineEnv(id, port), LOG_LEVEL: 'info' };
  const producer = await service('producer', env);
  const others = await Promise.all([service('consumer', env), service('runner', env)]);
  const tap = await tapFires(`${env.KAFKA_TOPIC_PREFIX}job-events`, `bench-${id}-schedules`);
  try {
    await inLanes(SCHEDULES, 20, async (i) => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/schedules`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ cron: pattern(i), job: { type: 'noop' }, catchUp: 'none' }),
      });
      if (res.status !== 201) throw new Error(`schedule create answered ${res.status}: ${await res.text()}`);
    });
    const window = { from: Date.now() + WARMUP_MS, to: Date.now() + WARMUP_MS + WINDOW_MS };
    await sleep(window.to - Date.now() + 5000);
    const fires = [...tap.requested].filter(([, f]) => f.fireAt >= window.from && f.fireAt < window.to);
    const started = fires.filter(([jobId]) => tap.started.has(jobId));
    return {
      fire: report(
        fires.map(([, f]) => f.at - f.fireAt),
        window,
      ),
      start: report(
        started.map(([jobId, f]) => tap.started.get(jobId) - f.fireAt),
        window,
      ),
      repeatedRequests: tap.repeatedRequests,
    };
  } finally {
    await tap.stop();
    await Promise.all([producer, ...others].map(stopProcess));
    const mongo = new MongoClient(process.env.MONGODB_URI);
    await mongo.db(env.MONGODB_DB).dropDatabase();
    await mongo.close();
  }
}

async function benchBullmq() {
  const queueName = `bench-schedules-${randomUUID().slice(0, 8)}`;
  const worker = await startProcess(
    'bullmq worker',
    [join(root, 'bench', 'bullmq-delayed-worker.mjs'), queueName],
    { CONCURRENCY: String(CONCURRENCY) },
    'ready',
  );
  const queue = new Queue(queueName, { connection: redisConnection() });
  try {
    await inLanes(SCHEDULES, 20, (i) =>
      queue.upsertJobScheduler(`s${i}`, { pattern: pattern(i) }, { name: 'noop', data: {} }),
    );
    const window = { from: Date.now() + WARMUP_MS, to: Date.now() + WARMUP_MS + WINDOW_MS };
    await sleep(window.to - Date.now() + 5000);
    const jobs = (await queue.getJobs(['completed'], 0, -1)).filter(
      (job) => job.opts.prevMillis >= window.from && job.opts.prevMillis < window.to,
    );
    return {
      start: report(
        jobs.map((job) => job.returnvalue - job.opts.prevMillis),
        window,
      ),
    };
  } finally {
    await stopProcess(worker);
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

export async function benchSchedules() {
  log(`(g) schedule fire lateness, ${SCHEDULES} schedules every ${PERIOD_S} s: jobline`);
  const jobline = await benchJobline();
  log(`(g) schedule fire lateness, ${SCHEDULES} schedules every ${PERIOD_S} s: BullMQ job schedulers`);
  const bullmq = await benchBullmq();
  return {
    settings: {
      schedules: SCHEDULES,
      everySeconds: PERIOD_S,
      windowSeconds: WINDOW_MS / 1000,
      concurrency: CONCURRENCY,
    },
    jobline,
    bullmq,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureInfrastructure(log);
  build();
  benchSchedules().then(
    (schedules) => {
      const report = { machine: { cpus: cpus().length, node: process.version }, schedules };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      log(err.stack ?? String(err));
      process.exit(1);
    },
  );
}
