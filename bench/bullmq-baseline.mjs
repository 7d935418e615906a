// The baseline jobline is measured against: express + BullMQ on the same Redis. Started as its own process by
// bench/run.mjs, either as an HTTP server whose handler does `queue.add` (`server`), or as a no-op worker (`worker`).
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Queue, Worker } from 'bullmq';

const [mode, queueName] = process.argv.slice(2);
const url = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };

if (mode === 'server') {
  const queue = new Queue(queueName, { connection });
  const app = express();
  app.use(express.json());
  app.post('/v1/jobs', async (req, res) => {
    const job = await queue.add(req.body.type, req.body.payload ?? {}, { jobId: randomUUID() });
    res.status(202).location(`/v1/jobs/${job.id}`).json({ id: job.id, status: 'pending' });
  });
  const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => queue.close().then(() => process.exit(0))));
} else if (mode === 'worker') {
  const worker = new Worker(queueName, async () => null, {
    connection,
    concurrency: Number(process.env.CONCURRENCY ?? 16),
  });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
} else {
  process.stderr.write('usage: bullmq-baseline.mjs server|worker <queue>\n');
  process.exit(2);
}
