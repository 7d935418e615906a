// The document store's CPU per document, measured on the server process (utime + stime from /proc/<pid>/stat), not
// wall time: the machine's cores are shared, so only the server's own CPU compares across runs. In a fresh database,
// shaped like the persister's writes:
//   insertEvents  N event documents (~300 bytes, string _id) with the job_events index, insertMany batches of 100
//   insertJobs    N job documents with the jobs collection's three list indexes, insertMany batches of 100
//   replaceJobs   each job replaced twice (status changes), bulkWrite replaceOne on { _id, 'position.offset' }
//   findJobs      every job read back by find({ _id: { $in: [100 ids] } })
// Smaller warm-up runs go first, and each phase waits for the server to go idle before it is read, so that MVStore's
// deferred writes and the collector's work land in the phase that caused them. The JIT compiler still works through
// the measured run; its threads' share is reported apart (jitCpuMs), and cpuMsPerDocWithoutJit leaves it out.
//
// Usage: node bench/store.mjs [label=pid@uri ...]
//   with no arguments, one server: MONGODB_URI (default mongodb://127.0.0.1:27017) whose process id is MONGO_PID;
//   servers named as arguments are measured one after another, never at the same time.
//   BENCH_STORE_DOCS (20000), BENCH_STORE_WARMUP_DOCS (5000), BENCH_STORE_WARMUP_ROUNDS (3), BENCH_STORE_BATCH (100).
// Prints JSON.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';

const DOCS = Number(process.env.BENCH_STORE_DOCS ?? 20000);
const WARMUP_DOCS = Number(process.env.BENCH_STORE_WARMUP_DOCS ?? 5000);
const WARMUP_ROUNDS = Number(process.env.BENCH_STORE_WARMUP_ROUNDS ?? 3);
const BATCH = Number(process.env.BENCH_STORE_BATCH ?? 100);
const TICKS_PER_SECOND = 100;
const STATUSES = ['queued', 'running', 'succeeded'];

function targetsFromArgs(args) {
  if (args.length === 0) {
    const pid = Number(process.env.MONGO_PID);
    if (!pid) throw new Error('MONGO_PID (the server process id) is required when no target is named');
    return [{ label: 'server', pid, uri: process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017' }];
  }
  return args.map((arg) => {
    const match = /^([^=]+)=(\d+)@(.+)$/.exec(arg);
    if (!match) throw new Error(`target '${arg}' is not label=pid@uri`);
    return { label: match[1], pid: Number(match[2]), uri: match[3] };
  });
}

/** The name and CPU time (user + system, ms) in a /proc stat file, or null when the process or thread has ended. */
function readStat(path) {
  let stat;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  // The name (in parentheses) may hold spaces and parentheses: utime and stime are the 14th and 15th fields of the
  // line, the 12th and 13th after the last ')'.
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  return { name: stat.slice(stat.indexOf('(') + 1, close), ms };
}

/**
 * CPU time the process has used, in milliseconds: all of it (exited threads included), and the part of its JIT
 * compiler threads alive now (the JVM may retire compiler threads, so that part can come out a little low).
 */
function cpuMs(pid) {
  const server = readStat(`/proc/${pid}/stat`);
  if (!server) throw new Error(`no process ${pid}`);
  let jit = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const thread = readStat(`/proc/${pid}/task/${task}/stat`);
    if (thread && /^C[12] CompilerThre/.test(thread.name)) jit += thread.ms;
  }
  return { total: server.ms, jit };
}

/** Waits until the server has used less than 20 ms of CPU in half a second, or 10 s have passed. */
async function untilIdle(pid) {
  const deadline = Date.now() + 10_000;
  let before = cpuMs(pid).total;
  while (Date.now() < deadline) {
    await sleep(500);
    const now = cpuMs(pid).total;
    if (now - before < 20) return;
    before = now;
  }
}

async function measure(pid, docs, work) {
  await untilIdle(pid);
  const before = cpuMs(pid);
  const wallBefore = performance.now();
  await work();
  const wallMs = performance.now() - wallBefore;
  await untilIdle(pid);
  const after = cpuMs(pid);
  const cpu = after.total - before.total;
  const jit = after.jit - before.jit;
  return {
    docs,
    cpuMs: Math.round(cpu),
    cpuMsPerDoc: Number((cpu / docs).toFixed(4)),
    jitCpuMs: Math.round(jit),
    cpuMsPerDocWithoutJit: Number(((cpu - jit) / docs).toFixed(4)),
    wallMs: Math.round(wallMs),
  };
}

function batches(items) {
  const out = [];
  for (let i = 0; i < items.length; i += BATCH) out.push(items.slice(i, i + BATCH));
  return out;
}

function eventDocument(jobId, n) {
  const eventId = randomUUID();
  return {
    _id: eventId,
    event: {
      eventId,
      type: 'JobProgressed',
      jobId,
      tenantId: `tenant-${n % 10}`,
      source: 'runner',
      occurredAt: new Date(1_700_000_000_000 + n),
      data: { attempt: 1, current: n % 7, total: 7, message: 'step done' },
    },
    jobId,
    tenantId: `tenant-${n % 10}`,
    position: { partition: n % 3, offset: n },
  };
}

function jobDocument(id, n, round) {
  return {
    _id: id,
    id,
    tenantId: `tenant-${n % 10}`,
    type: n % 2 ? 'http' : 'noop',
    status: STATUSES[round],
    payload: { url: 'https://example.com/hook', n },
    attempt: round,
    maxAttempts: 3,
    createdAt: new Date(1_700_000_000_000 + n),
    updatedAt: new Date(1_700_000_000_000 + n + round),
    result: null,
    error: null,
    metadata: { batch: String(Math.floor(n / 1000)) },
    position: { partition: n % 3, offset: n * 10 + round },
  };
}

async function run(client, pid, docs) {
  const db = client.db(`bench_store_${randomUUID().slice(0, 8)}`);
  try {
    const events = db.collection('job_events');
    const jobs = db.collection('jobs');
    await events.createIndex({ jobId: 1, 'position.offset': 1 });
    await jobs.createIndex({ tenantId: 1, createdAt: -1, _id: -1 });
    await jobs.createIndex({ tenantId: 1, status: 1, createdAt: -1, _id: -1 });
    await jobs.createIndex({ tenantId: 1, type: 1, createdAt: -1, _id: -1 });
    const jobIds = Array.from({ length: docs }, () => randomUUID());

    const insertEvents = await measure(pid, docs, async () => {
      const all = jobIds.map((jobId, n) => eventDocument(jobId, n));
      for (const batch of batches(all)) await events.insertMany(batch, { ordered: false });
    });
    const insertJobs = await measure(pid, docs, async () => {
      const all = jobIds.map((id, n) => jobDocument(id, n, 0));
      for (const batch of batches(all)) await jobs.insertMany(batch, { ordered: false });
    });
    const replaceJobs = await measure(pid, docs * 2, async () => {
      for (const round of [1, 2]) {
        for (const batch of batches(jobIds.map((id, n) => ({ id, n })))) {
          const result = await jobs.bulkWrite(
            batch.map(({ id, n }) => ({
              replaceOne: {
                filter: { _id: id, 'position.offset': n * 10 + round - 1 },
                replacement: jobDocument(id, n, round),
              },
            })),
            { ordered: false },
          );
          if (result.matchedCount !== batch.length)
            throw new Error(`replaced ${result.matchedCount} of ${batch.length}`);
        }
      }
    });
    const findJobs = await measure(pid, docs, async () => {
      for (const ids of batches(jobIds)) {
        const found = await jobs.find({ _id: { $in: ids } }).toArray();
        if (found.length !== ids.length) throw new Error(`found ${found.length} of ${ids.length}`);
      }
    });
    return { insertEvents, insertJobs, replaceJobs, findJobs };
  } finally {
    await db.dropDatabase();
  }
}

async function main() {
  const results = [];
  for (const target of targetsFromArgs(process.argv.slice(2))) {
    const client = new MongoClient(target.uri);
    try {
      await client.connect();
      for (let round = 0; round < WARMUP_ROUNDS; round += 1) await run(client, target.pid, WARMUP_DOCS);
      results.push({ ...target, phases: await run(client, target.pid, DOCS) });
    } finally {
      await client.close();
    }
  }
  console.log(JSON.stringify({ docs: DOCS, batch: BATCH, results }, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
