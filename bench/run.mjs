#!/usr/bin/env node
// `npm run bench`: figures for jobline beside express + BullMQ on the same machine and the same Redis. Prints one JSON
// document. A benchmark, not a test: nothing here fails on a time.
//   (a) POST /v1/jobs: accepted jobs/s and p50/p99 latency, load from autocannon in its own process;
//   (b) the same load against express + BullMQ `queue.add`;
//   (c) end to end: N noop jobs submitted over HTTP until all are completed, jobs/s and enqueue→completed latency,
//       beside BullMQ with a no-op worker;
//   (d) scheduled-job lateness beside BullMQ delayed jobs (bench/timers.mjs, which also runs alone);
//   (e) replay: raw kafkajs consume rate of a fresh topic beside replay events/s (bench/replay.mjs, also alone);
//   (f) data import and export: a generated NDJSON file of users imported and exported, rows/s and peak memory
//       (bench/import-export.mjs, also alone);
//   (g) schedule fire lateness with 1,000 schedules beside BullMQ job schedulers (bench/schedules.mjs, also alone).
// Knobs: BENCH_PARTS (all: ingest,e2e,timers,replay,import,schedules), BENCH_DURATION_S (10), BENCH_CONNECTIONS (50), BENCH_JOBS (5000), and those of bench/timers.mjs,
// bench/replay.mjs and bench/import-export.mjs (BENCH_IMPORT_ROWS, 1,000,000).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure, root } from '../scripts/local-stack.mjs';
import { benchImportExport } from './import-export.mjs';
import { benchReplay } from './replay.mjs';
import {
  TENANT,
  TOKEN,
  cpuSample,
  freePort,
  joblineEnv,
  latencySummary,
  log,
  redisConnection,
  service,
  stackPids,
  startProcess,
  stopProcess,
} from './harness.mjs';
import { benchSchedules } from './schedules.mjs';
import { benchTimers } from './timers.mjs';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const JOBS = Number(process.env.BENCH_JOBS ?? 5000);
const BODY = JSON.stringify({ type: 'noop', payload: {} });

/** autocannon in its own process, so that the load generator does not share an event loop with what it measures. */
async function autocannon(url) {
  const args = [
    join(root, 'node_modules', 'autocannon', 'autocannon.js'),
    '--json',
    '-c',
    String(CONNECTIONS),
    '-d',
    String(DURATION_S),
    '-m',
    'POST',
    '-H',
    `authorization=Bearer ${TOKEN}`,
    '-H',
    'content-type=application/json',
    '-b',
    BODY,
    url,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  await new Promise((resolve) => child.once('exit', resolve));
  const r = JSON.parse(out);
  return {
    acceptedPerSec: Math.round(r['2xx'] / r.duration),
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
  };
}

/** Submits `n` jobs over HTTP with `CONNECTIONS` requests in flight. */
async function submitJobs(base, n) {
  let next = 0;
  const ids = [];
  async function lane() {
    while (next < n) {
      next += 1;
      const res = await fetch(`${base}/v1/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: BODY,
      });
      if (res.status !== 202) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
      ids.push((await res.json()).id);
    }
  }
  await Promise.all(Array.from({ length: CONNECTIONS }, lane));
  return ids;
}

async function benchJoblineIngest() {
  const port = await freePort();
  const env = joblineEnv(randomUUID().slice(0, 8), port);
  const producer = await service('producer', { ...env, LOG_LEVEL: 'info' });
  try {
    await autocannon(`http://127.0.0.1:${port}/v1/jobs`); // warm-up
    return await autocannon(`http://127.0.0.1:${port}/v1/jobs`);
  } finally {
    await stopProcess(producer);
  }
}

async function benchBullmqIngest() {
  const port = await freePort();
  const queueName = `bench-${randomUUID().slice(0, 8)}`;
  const server = await startProcess(
    'bullmq server',
    [join(root, 'bench', 'bullmq-baseline.mjs'), 'server', queueName],
    { PORT: String(port) },
    'ready',
  );
  try {
    await autocannon(`http://127.0.0.1:${port}/v1/jobs`);
    return await autocannon(`http://127.0.0.1:${port}/v1/jobs`);
  } finally {
    await stopProcess(server);
    await obliterate(queueName);
  }
}

async function obliterate(queueName) {
  const queue = new Queue(queueName, { connection: redisConnection() });
  await queue.obliterate({ force: true });
  await queue.close();
}

/**
 * Resolves once `count` jobs of the tenant have been announced `completed` on its live-change channel: watching that
 * channel costs the pipeline nothing, where polling the projection would load the document store being measured.
 */
function completions(env, tenantId, count) {
  const subscriber = new Redis(process.env.REDIS_URL);
  const completed = new Set();
  let resolveAll;
  const done = new Promise((resolve) => (resolveAll = resolve));
  subscriber.on('message', (_channel, message) => {
    const { view } = JSON.parse(message);
    if (view.status === 'completed') completed.add(view.id);
    if (completed.size >= count) resolveAll();
  });
  return {
    ready: subscriber.subscribe(`${env.REDIS_KEY_PREFIX}job-changes:${tenantId}`),
    done,
    close: () => subscriber.quit(),
  };
}

async function benchJoblineEndToEnd() {
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  const env = joblineEnv(id, port);
  const producer = await service('producer', { ...env, LOG_LEVEL: 'info' });
  const [consumer, runner] = await Promise.all([
    service('consumer', { ...env, LOG_LEVEL: 'info' }),
    service('runner', { ...env, LOG_LEVEL: 'info' }),
  ]);
  const mongo = new MongoClient(process.env.MONGODB_URI);
  const watch = completions(env, TENANT, JOBS);
  try {
    await watch.ready;
    const jobs = mongo.db(env.MONGODB_DB).collection('jobs');
    const cpu = cpuSample({
      producer: producer.pid,
      persister: consumer.pid,
      runner: runner.pid,
      ...stackPids(),
    });
    const started = Date.now();
    await submitJobs(`http://127.0.0.1:${port}`, JOBS);
    const submittedMs = Date.now() - started;
    const deadline = sleep(600_000).then(() => {
      throw new Error('jobline did not complete the jobs within 10 minutes');
    });
    await Promise.race([watch.done, deadline]);
    const totalMs = Date.now() - started;
    const cpuMsPerJob = cpu.perUnit(JOBS);
    const completed = await jobs.countDocuments({ status: 'completed' });
    if (completed < JOBS) throw new Error(`only ${completed} of ${JOBS} jobs are completed in the projection`);
    const docs = await jobs.find({}, { projection: { createdAt: 1, finishedAt: 1 } }).toArray();
    return {
      jobs: JOBS,
      submitSeconds: submittedMs / 1000,
      totalSeconds: totalMs / 1000,
      completedPerSec: Math.round(JOBS / (totalMs / 1000)),
      enqueueToCompletedMs: latencySummary(docs.map((d) => Date.parse(d.finishedAt) - Date.parse(d.createdAt))),
      cpuMsPerJob,
    };
  } finally {
    await watch.close();
    await Promise.all([producer, consumer, runner].map(stopProcess));
    await mongo.db(env.MONGODB_DB).dropDatabase();
    await mongo.close();
  }
}

async function benchBullmqEndToEnd() {
  const queueName = `bench-${randomUUID().slice(0, 8)}`;
  const port = await freePort();
  const server = await startProcess(
    'bullmq server',
    [join(root, 'bench', 'bullmq-baseline.mjs'), 'server', queueName],
    { PORT: String(port) },
    'ready',
  );
  const worker = await startProcess(
    'bullmq worker',
    [join(root, 'bench', 'bullmq-baseline.mjs'), 'worker', queueName],
    { CONCURRENCY: '16' },
    'ready',
  );
  const queue = new Queue(queueName, { connection: redisConnection() });
  try {
    const { redis } = stackPids();
    const cpu = cpuSample({ server: server.pid, worker: worker.pid, ...(redis ? { redis } : {}) });
    const started = Date.now();
    await submitJobs(`http://127.0.0.1:${port}`, JOBS);
    const submittedMs = Date.now() - started;
    while ((await queue.getCompletedCount()) < JOBS) {
      if (Date.now() - started > 600_000) throw new Error('BullMQ did not complete the jobs within 10 minutes');
      await sleep(100);
    }
    const totalMs = Date.now() - started;
    const cpuMsPerJob = cpu.perUnit(JOBS);
    const jobs = await queue.getJobs(['completed'], 0, JOBS);
    return {
      jobs: JOBS,
      submitSeconds: submittedMs / 1000,
      totalSeconds: totalMs / 1000,
      completedPerSec: Math.round(JOBS / (totalMs / 1000)),
      enqueueToCompletedMs: latencySummary(jobs.map((j) => j.finishedOn - j.timestamp)),
      cpuMsPerJob,
    };
  } finally {
    await Promise.all([stopProcess(server), stopProcess(worker)]);
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

const ratio = (a, b) => Math.round((a / b) * 100) / 100;

/** BENCH_PARTS picks parts (comma-separated: ingest, e2e, timers, replay, import, schedules); all by default. */
const PARTS = new Set(
  (process.env.BENCH_PARTS ?? 'ingest,e2e,timers,replay,import,schedules').split(',').map((p) => p.trim()),
);
const part = (name, run) => (PARTS.has(name) ? run() : undefined);

async function main() {
  ensureInfrastructure(log);
  build();
  const joblineIngest = await part('ingest', () => (log('(a) jobline POST /v1/jobs'), benchJoblineIngest()));
  const bullmqIngest = await part('ingest', () => (log('(b) express + BullMQ queue.add'), benchBullmqIngest()));
  const joblineE2e = await part(
    'e2e',
    () => (log(`(c) end to end, ${JOBS} noop jobs: jobline`), benchJoblineEndToEnd()),
  );
  const bullmqE2e = await part('e2e', () => (log(`(c) end to end, ${JOBS} noop jobs: BullMQ`), benchBullmqEndToEnd()));
  const timers = await part('timers', () => benchTimers());
  const replay = await part('replay', () => benchReplay({ log }));
  const dataImportExport = await part('import', () => (log('(f) data import and export'), benchImportExport({ log })));
  const schedules = await part('schedules', () => benchSchedules());
  const report = {
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
    settings: { durationSeconds: DURATION_S, connections: CONNECTIONS, jobs: JOBS },
    ingest: joblineIngest && {
      jobline: joblineIngest,
      bullmq: bullmqIngest,
      ratioAcceptedPerSec: ratio(joblineIngest.acceptedPerSec, bullmqIngest.acceptedPerSec),
    },
    endToEnd: joblineE2e && {
      jobline: joblineE2e,
      bullmq: bullmqE2e,
      ratioCompletedPerSec: ratio(joblineE2e.completedPerSec, bullmqE2e.completedPerSec),
      ratioP50Latency: ratio(joblineE2e.enqueueToCompletedMs.p50, bullmqE2e.enqueueToCompletedMs.p50),
      ratioCpuPerJob: ratio(joblineE2e.cpuMsPerJob.total, bullmqE2e.cpuMsPerJob.total),
      ratioServicesCpuPerJob: ratio(
        joblineE2e.cpuMsPerJob.producer + joblineE2e.cpuMsPerJob.persister + joblineE2e.cpuMsPerJob.runner,
        bullmqE2e.cpuMsPerJob.total,
      ),
    },
    timers,
    replay,
    dataImportExport,
    schedules,
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    log(err.stack ?? String(err));
    process.exit(1);
  },
);
