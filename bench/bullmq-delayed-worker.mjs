// The BullMQ side of bench/timers.mjs, in its own process as jobline's runner is: a worker whose processor only returns
// the moment it was called. BullMQ keeps that as the job's return value, which the bench sets against the due time.
import { Worker } from 'bullmq';

const [queueName] = process.argv.slice(2);
const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

const worker = new Worker(queueName, async () => Date.now(), {
  connection: { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null },
  concurrency: Number(process.env.CONCURRENCY ?? 16),
});
await worker.waitUntilReady();
process.stdout.write('ready\n');
process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
