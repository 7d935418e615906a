// Memory with many jobs scheduled far ahead: BENCH_SCHEDULED_JOBS (100000) `noop` jobs due in an hour are submitted
// 100 a request; once the runner has turned every one into a timer in a delay topic, the resident memory of each
// service is read from the operating system (ps). The runner keeps none of them in memory: only jobs due within the
// smallest tier wait there. Prints one JSON document; `node bench/scheduled-memory.mjs` runs it alone.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { build, ensureInfrastructure } from '../scripts/local-stack.mjs';
import { TOKEN, freePort, joblineEnv, log, service, stopProcess } from './harness.mjs';

const JOBS = Number(process.env.BENCH_SCHEDULED_JOBS ?? 100_000);
const BATCH = 100;
const LANES = 8;
const DEADLINE_MS = 15 * 60_000;

const rssMb = (child) => Math.round(Number(execFileSync('ps', ['-o', 'rss=', '-p', String(child.pid)])) / 1024);

/** Timers written to the delay topics of a topic prefix so far. */
async function timersWritten(admin, prefix) {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${prefix}job-delay-`));
  let total = 0;
  for (const topic of topics) {
    for (const { high, low } of await admin.fetchTopicOffsets(topic)) total += Number(high) - Number(low);
  }
  return total;
}

export async function benchScheduledMemory() {
  const id = randomUUID().slice(0, 8);
  const port = await freePort();
  // The services say they are ready at level info.
  const env = { ...joblineEnv(id, port), LOG_LEVEL: 'info' };
  const producer = await service('producer', env);
  const [persister, runner] = await Promise.all([service('consumer', env), service('runner', env)]);
  const kafka = new Kafka({ brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const before = { producer: rssMb(producer), persister: rssMb(persister), runner: rssMb(runner) };
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        while (next < JOBS) {
          const count = Math.min(BATCH, JOBS - next);
          next += count;
          const res = await fetch(`http://127.0.0.1:${port}/v1/jobs/batch`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ jobs: Array.from({ length: count }, () => ({ type: 'noop', runAt })) }),
          });
          if (res.status !== 202) throw new Error(`batch submit answered ${res.status}: ${await res.text()}`);
        }
      }),
    );
    const submitSeconds = (Date.now() - started) / 1000;
    log(`${JOBS} scheduled jobs submitted in ${submitSeconds} s; waiting for the runner to write their timers`);
    let written = 0;
    while ((written = await timersWritten(admin, env.KAFKA_TOPIC_PREFIX)) < JOBS) {
      if (Date.now() - started > DEADLINE_MS) break;
      await sleep(1000);
    }
    return {
      jobs: JOBS,
      submitSeconds,
      timersWritten: written,
      timersWrittenSeconds: (Date.now() - started) / 1000,
      rssMb: { before, after: { producer: rssMb(producer), persister: rssMb(persister), runner: rssMb(runner) } },
    };
  } finally {
    await admin.disconnect();
    await Promise.all([producer, persister, runner].map(stopProcess));
    const mongo = new MongoClient(process.env.MONGODB_URI);
    await mongo.db(env.MONGODB_DB).dropDatabase();
    await mongo.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureInfrastructure(log);
  build();
  benchScheduledMemory().then(
    (scheduledMemory) => {
      process.stdout.write(`${JSON.stringify({ scheduledMemory }, null, 2)}\n`);
      process.exit(0);
    },
    (err) => {
      log(err.stack ?? String(err));
      process.exit(1);
    },
  );
}
