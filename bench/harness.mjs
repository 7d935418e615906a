// What the parts of `npm run bench` share: jobline's services and the BullMQ baseline started as processes from their
// builds, each run with its own topics, database, Redis keys and consumer groups; the bench's API token; latency
// summaries.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { root } from '../scripts/local-stack.mjs';

export const TOKEN = 'bench-token';

export const log = (message) => process.stderr.write(`[bench] ${message}\n`);

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a Node process and resolves once a line of its output contains `readyText`. */
export function startProcess(name, args, env, readyText) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // BENCH_LOG_DIR keeps each service's output in a file there, for looking into a figure.
  if (process.env.BENCH_LOG_DIR) mkdirSync(process.env.BENCH_LOG_DIR, { recursive: true });
  const file = process.env.BENCH_LOG_DIR
    ? createWriteStream(join(process.env.BENCH_LOG_DIR, `${name}-${child.pid}.log`))
    : null;
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      file?.write(chunk);
      if (output.includes(readyText)) return;
      output += chunk.toString();
      if (output.includes(readyText)) resolve(child);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output.slice(-2000)}`)));
  });
}

export async function stopProcess(child) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function latencySummary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

export function joblineEnv(id, port) {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    API_TOKENS: `${TOKEN}:bench`,
    // A benchmark measures the pipeline, not the per-token limit.
    RATE_LIMIT_PER_MINUTE: '1000000',
    KAFKA_TOPIC_PREFIX: `bench-${id}.`,
    MONGODB_DB: `bench_${id}`,
    REDIS_KEY_PREFIX: `bench:${id}:`,
    PERSISTER_GROUP_ID: `bench-${id}-persister`,
    RUNNER_GROUP_ID: `bench-${id}-runner`,
    LOG_LEVEL: 'warn',
    // Several processes of one service run side by side here: no ops port to collide on.
    METRICS_PORT: '0',
  };
}

/** Starts `producer`, `consumer` or `runner` from its build; resolves once it listens or consumes. */
export const service = (name, env) =>
  startProcess(
    name,
    [join(root, name, 'dist', 'main.js')],
    env,
    name === 'producer' ? 'producer listening' : 'consuming',
  );

export function redisConnection() {
  const url = new URL(process.env.REDIS_URL);
  return { host: url.hostname, port: Number(url.port || 6379) };
}
