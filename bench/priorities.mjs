// Priorities and fair sharing between tenants in a saturated runner (`runner/src/work-scheduler.ts`): how long jobs
// wait to start. `node bench/priorities.mjs` runs it (not part of `npm run bench`: it takes minutes) and prints one
// JSON document. A benchmark, not a test: nothing fails on a time. Each part starts its own producer, persister and
// runner with their own topics, database, Redis keys and consumer groups.
//   priority: one runner of `BENCH_PRIORITY_CONCURRENCY` (4) slots; a backlog of `BENCH_PRIORITY_LOW_JOBS` (3000)
//     `sleep` jobs of `BENCH_PRIORITY_SLEEP_MS` (40) ms at priority 1, submitted 100 a request to
//     `POST /v1/jobs/batch`; once the runner has started some, `BENCH_PRIORITY_HIGH_JOBS` (40) jobs of priority 9, one
//     `POST /v1/jobs` every `BENCH_PRIORITY_HIGH_EVERY_MS` (250) ms. A job's wait is its first JobStarted minus its
//     JobRequested (`occurredAt` of both, read from the event topic). The same run again with every job at the default
//     priority shows what the trickle would have waited without priorities.
//   fairness: tenant `big` submits `BENCH_FAIR_BIG_JOBS` (100000) `sleep` jobs of `BENCH_FAIR_SLEEP_MS` (50) ms,
//     1,000 a request with 8 requests in flight, to a runner of `BENCH_FAIR_CONCURRENCY` (16) slots and no tenant cap;
//     once they are all accepted and the runner is at work on them, tenant `small` submits `BENCH_FAIR_SMALL_JOBS` (10)
//     jobs, one every 500 ms. Reported: the small tenant's waits, how many of big's jobs had not started when small's
//     last one did, and the runner's resident memory (`/proc/<pid>/status`) while it reads the backlog ahead.
// `BENCH_PRIORITY_PARTS` picks parts (comma-separated: priority, default, fairness); all by default.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure } from '../scripts/local-stack.mjs';
import {
  TOKEN,
  cpuMs,
  cpuSample,
  freePort,
  inLanes,
  joblineEnv,
  log,
  percentile,
  service,
  stackPids,
  stopProcess,
} from './harness.mjs';

const num = (name, fallback) => Number(process.env[name] ?? fallback);

const PRIORITY = {
  concurrency: num('BENCH_PRIORITY_CONCURRENCY', 4),
  sleepMs: num('BENCH_PRIORITY_SLEEP_MS', 40),
  lowJobs: num('BENCH_PRIORITY_LOW_JOBS', 3000),
  highJobs: num('BENCH_PRIORITY_HIGH_JOBS', 40),
  highEveryMs: num('BENCH_PRIORITY_HIGH_EVERY_MS', 250),
};
const FAIRNESS = {
  concurrency: num('BENCH_FAIR_CONCURRENCY', 16),
  sleepMs: num('BENCH_FAIR_SLEEP_MS', 50),
  bigJobs: num('BENCH_FAIR_BIG_JOBS', 100_000),
  smallJobs: num('BENCH_FAIR_SMALL_JOBS', 10),
  smallEveryMs: 500,
  batch: 1000,
  inFlight: 8,
};
/** How long a part waits for jobs still to start, past what their count and length call for, before reporting. */
const GRACE_MS = 120_000;

const round = (n, digits = 0) => Math.round(n * 10 ** digits) / 10 ** digits;
const ratio = (a, b) => (b > 0 ? round(a / b, 3) : null);

function waitSummary(values) {
  if (values.length === 0) return { count: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => percentile(sorted, p);
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) };
}

/** Polls `done()` until it holds or `deadline` (epoch ms) passes; says whether it held. */
async function waitFor(done, deadline, everyMs = 200) {
  while (!(await done())) {
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/**
 * Follows the event topic from its start: each job's JobRequested (instant, tenant, priority, `lane` metadata) and its
 * first JobStarted instant, and how far it has read in each partition. Reading Kafka keeps the measurement off the
 * database the persister writes, and the instants are the ones the services stamped.
 */
async function tapEvents(kafka, topic, groupId) {
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 * 1024 * 1024 });
  const tap = {
    requested: new Map(),
    started: new Map(),
    /** The next offset to read, by partition. */
    nextOffset: new Map(),
    stop: () => consumer.disconnect(),
  };
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const event = JSON.parse(message.value.toString());
        if (event.type === 'JobRequested') {
          tap.requested.set(event.jobId, {
            at: Date.parse(event.occurredAt),
            tenantId: event.tenantId,
            priority: event.data.priority,
            lane: event.data.metadata.lane,
          });
        } else if (event.type === 'JobStarted' && !tap.started.has(event.jobId)) {
          tap.started.set(event.jobId, Date.parse(event.occurredAt));
        }
      }
      if (batch.messages.length > 0) tap.nextOffset.set(batch.partition, Number(batch.lastOffset()) + 1);
    },
  });
  return tap;
}

/** Resolves once the tap has read everything the topic held when it was called, or the deadline passed. */
async function tapCaughtUp(admin, tap, topic, deadline) {
  const ends = await admin.fetchTopicOffsets(topic);
  return waitFor(() => ends.every((e) => (tap.nextOffset.get(e.partition) ?? 0) >= Number(e.high)), deadline);
}

/** The three services of one part, with the tap on their event topic, torn down (topics and database) by `close`. */
async function startJobline(extraEnv = {}, runnerEnv = {}) {
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  const env = { ...joblineEnv(id, port), LOG_LEVEL: 'info', ...extraEnv };
  const producer = await service('producer', env);
  const [persister, runner] = await Promise.all([
    service('consumer', env),
    service('runner', { ...env, ...runnerEnv }),
  ]);
  const kafka = new Kafka({
    clientId: 'bench-priorities',
    brokers: process.env.KAFKA_BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const libs = await import('@jobline/libs');
  const topics = libs.topicNames(env.KAFKA_TOPIC_PREFIX);
  const tap = await tapEvents(kafka, topics.events, `bench-${id}-tap`);
  return {
    base: `http://127.0.0.1:${port}`,
    producer,
    persister,
    runner,
    admin,
    tap,
    eventTopic: topics.events,
    async close() {
      await tap.stop().catch(() => undefined);
      await Promise.all([producer, persister, runner].map(stopProcess));
      await admin.deleteTopics({ topics: libs.allTopics(topics) }).catch(() => undefined);
      await admin.disconnect();
      const mongo = new MongoClient(process.env.MONGODB_URI);
      await mongo.db(env.MONGODB_DB).dropDatabase();
      await mongo.close();
    },
  };
}

async function post(url, token, body, expected = 202) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== expected) throw new Error(`POST ${url} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** Submits `count` copies of `job` through the batch endpoint, `batch` a request and `inFlight` requests at a time. */
async function submitBatches(base, token, job, count, batch, inFlight) {
  const requests = Math.ceil(count / batch);
  await inLanes(requests, inFlight, async (i) => {
    const size = Math.min(batch, count - i * batch);
    await post(`${base}/v1/jobs/batch`, token, { jobs: Array.from({ length: size }, () => job) });
  });
}

/** One priority run: a low backlog, then a trickle of high jobs; `prioritized` false gives every job priority 5. */
async function priorityRun(prioritized) {
  const { concurrency, sleepMs, lowJobs, highJobs, highEveryMs } = PRIORITY;
  const jobline = await startJobline({}, { RUNNER_CONCURRENCY: String(concurrency) });
  const { tap } = jobline;
  try {
    const cpu = cpuSample({
      producer: jobline.producer.pid,
      persister: jobline.persister.pid,
      runner: jobline.runner.pid,
      ...stackPids(),
    });
    const job = (lane, priority) => ({
      type: 'sleep',
      payload: { ms: sleepMs },
      metadata: { lane },
      ...(prioritized ? { priority } : {}),
    });
    const started = Date.now();
    await submitBatches(jobline.base, TOKEN, job('low', 1), lowJobs, 100, 4);
    const submitSeconds = (Date.now() - started) / 1000;
    await waitFor(() => tap.started.size >= concurrency, Date.now() + 60_000);
    log(`priority run (${prioritized ? 'priorities 1 and 9' : 'all at 5'}): backlog in, ${highJobs} high jobs follow`);
    for (let i = 0; i < highJobs; i++) {
      const due = Date.now() + highEveryMs;
      await post(`${jobline.base}/v1/jobs`, TOKEN, job('high', 9));
      await sleep(Math.max(0, due - Date.now()));
    }
    const total = lowJobs + highJobs;
    const allStarted = await waitFor(
      () => tap.started.size >= total,
      Date.now() + (lowJobs * sleepMs) / concurrency + GRACE_MS,
      500,
    );
    const cpuMsPerJob = cpu.perUnit(total);
    const waits = { high: [], low: [] };
    const lowStarts = [];
    let lastHighStart = 0;
    for (const [jobId, request] of tap.requested) {
      const startedAt = tap.started.get(jobId);
      if (startedAt === undefined) continue;
      waits[request.lane].push(startedAt - request.at);
      if (request.lane === 'low') lowStarts.push(startedAt);
      else lastHighStart = Math.max(lastHighStart, startedAt);
    }
    const drainSeconds = (Math.max(...tap.started.values()) - started) / 1000;
    const high = waitSummary(waits.high);
    const low = waitSummary(waits.low);
    return {
      jobs: { low: lowJobs, high: highJobs, notStarted: total - tap.started.size, allStarted },
      priorities: prioritized ? { low: 1, high: 9 } : { low: 5, high: 5 },
      submitLowSeconds: submitSeconds,
      // From the first request to the last start.
      drainSeconds,
      startedPerSec: round(tap.started.size / drainSeconds, 1),
      waitMs: { high, low },
      ratioHighToLow: { p50: ratio(high.p50, low.p50), p95: ratio(high.p95, low.p95) },
      highBelowFifthOfLow: high.p50 < low.p50 / 5 && high.p95 < low.p95 / 5,
      // Low jobs still waiting when the last high job started: the runner stayed saturated while the trickle lasted.
      lowNotStartedWhenLastHighStarted: lowJobs - lowStarts.filter((at) => at <= lastHighStart).length,
      cpuMsPerJob,
    };
  } finally {
    await jobline.close();
  }
}

/** Resident memory of a process now and at its peak (VmRSS, VmHWM), in MB; null once it is gone. */
function memoryMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
    return { rss: round(kb('VmRSS') / 1024), peak: round(kb('VmHWM') / 1024) };
  } catch {
    return null;
  }
}

/** The runner's gauge of jobs waiting for a slot, read from its `/metrics`. */
async function queuedInRunner(metricsPort) {
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const match = /^jobline_runner_jobs_queued(?:\{[^}]*\})? (\d+)/m.exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/**
 * Samples the runner's resident memory and queue every half second; keeps the peak and the largest queue. A runner
 * whose event loop is blocked answers no scrape: its queue is then unknown (null).
 */
function watchRunner(pid, metricsPort) {
  const seen = { peakRssMb: 0, queuedAtPeakRss: null, maxQueued: 0, maxQueuedAtSeconds: null };
  const since = Date.now();
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const memory = memoryMb(pid);
    const queued = await queuedInRunner(metricsPort);
    if (memory && memory.rss > seen.peakRssMb) Object.assign(seen, { peakRssMb: memory.rss, queuedAtPeakRss: queued });
    if (queued !== null && queued > seen.maxQueued) {
      Object.assign(seen, { maxQueued: queued, maxQueuedAtSeconds: round((Date.now() - since) / 1000, 1) });
    }
    busy = false;
  }, 500);
  return { seen, stop: () => clearInterval(timer) };
}

async function fairness() {
  const { concurrency, sleepMs, bigJobs, smallJobs, smallEveryMs, batch, inFlight } = FAIRNESS;
  const tokens = { big: 'bench-big', small: 'bench-small' };
  const metricsPort = await freePort();
  const jobline = await startJobline(
    { API_TOKENS: `${tokens.big}:big,${tokens.small}:small`, BATCH_MAX_JOBS: String(batch) },
    { RUNNER_CONCURRENCY: String(concurrency), METRICS_PORT: String(metricsPort) },
  );
  const { tap } = jobline;
  const watch = watchRunner(jobline.runner.pid, metricsPort);
  try {
    const rssBeforeMb = memoryMb(jobline.runner.pid).rss;
    const cpuBefore = cpuMs(jobline.runner.pid);
    const job = { type: 'sleep', payload: { ms: sleepMs } };
    log(`fairness: tenant big submits ${bigJobs} jobs`);
    const started = Date.now();
    await submitBatches(jobline.base, tokens.big, job, bigJobs, batch, inFlight);
    const submitSeconds = (Date.now() - started) / 1000;
    await waitFor(() => tap.started.size > 0, Date.now() + 60_000);
    log(`fairness: big's jobs accepted in ${submitSeconds} s; tenant small submits ${smallJobs}, one by one`);
    const smallIds = [];
    const smallStarted = Date.now();
    for (let i = 0; i < smallJobs; i++) {
      const due = Date.now() + smallEveryMs;
      smallIds.push((await post(`${jobline.base}/v1/jobs`, tokens.small, job)).id);
      await sleep(Math.max(0, due - Date.now()));
    }
    const allSmallStarted = await waitFor(() => smallIds.every((id) => tap.started.has(id)), Date.now() + GRACE_MS);
    const smallSeconds = (Date.now() - smallStarted) / 1000;
    const runnerCpuSeconds = round((cpuMs(jobline.runner.pid) - cpuBefore) / 1000, 1);
    const windowSeconds = (Date.now() - started) / 1000;
    await tapCaughtUp(jobline.admin, tap, jobline.eventTopic, Date.now() + 60_000);
    const smallWaits = smallIds
      .filter((id) => tap.started.has(id))
      .map((id) => tap.started.get(id) - tap.requested.get(id).at);
    const lastSmallStart = Math.max(...smallIds.map((id) => tap.started.get(id) ?? 0));
    let bigStartedBefore = 0;
    for (const [jobId, at] of tap.started) {
      if (at <= lastSmallStart && tap.requested.get(jobId)?.tenantId === 'big') bigStartedBefore += 1;
    }
    watch.stop();
    return {
      submittedVia: `POST /v1/jobs/batch, ${batch} jobs a request, ${inFlight} requests in flight`,
      big: { jobs: bigJobs, submitSeconds, acceptedPerSec: Math.round(bigJobs / submitSeconds) },
      small: {
        jobs: smallJobs,
        started: smallWaits.length,
        allStarted: allSmallStarted,
        waitMs: waitSummary(smallWaits),
        submittedToLastStartSeconds: smallSeconds,
      },
      bigNotStartedWhenSmallLastStarted: allSmallStarted ? bigJobs - bigStartedBefore : null,
      runner: {
        rssBeforeMb,
        peakRssMb: watch.seen.peakRssMb,
        vmHwmMb: memoryMb(jobline.runner.pid)?.peak ?? null,
        queuedAtPeakRss: watch.seen.queuedAtPeakRss,
        maxQueued: watch.seen.maxQueued,
        // Seconds after big's first request.
        maxQueuedAtSeconds: watch.seen.maxQueuedAtSeconds,
        // From big's first request until small's last job started (or the wait for it gave up).
        cpuSeconds: runnerCpuSeconds,
        wallSeconds: windowSeconds,
      },
    };
  } finally {
    watch.stop();
    await jobline.close();
  }
}

const PARTS = new Set(
  (process.env.BENCH_PRIORITY_PARTS ?? 'priority,default,fairness').split(',').map((p) => p.trim()),
);

async function main() {
  ensureInfrastructure(log);
  build();
  const prioritized = PARTS.has('priority') ? await priorityRun(true) : undefined;
  const defaultPriority = PARTS.has('default') ? await priorityRun(false) : undefined;
  const fair = PARTS.has('fairness') ? await fairness() : undefined;
  const report = {
    machine: { cpus: cpus().length, node: process.version },
    priority: (prioritized || defaultPriority) && { settings: PRIORITY, prioritized, defaultPriority },
    fairness: fair && { settings: FAIRNESS, ...fair },
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
