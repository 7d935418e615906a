// What the parts of `npm run bench` share: jobline's services and the BullMQ baseline started as processes from their
// builds, each run with its own topics, database, Redis keys and consumer groups; the bench's API token; latency
// summaries.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { root } from '../scripts/local-stack.mjs';

export const TOKEN = 'bench-token';
export const TENANT = 'bench';

export const log = (message) => process.stderr.write(`[bench] ${message}\n`);

/** Calls `task(0)` … `task(n - 1)`, `lanes` of them at a time. */
export async function inLanes(n, lanes, task) {
  let next = 0;
  const lane = async () => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts a Node process and resolves once a line of its output contains `readyText`. */
export function startProcess(name, args, env, readyText) {
  // BENCH_CPU_PROF_DIR writes a V8 CPU profile of each process there when it exits (node --cpu-prof).
  const profile = process.env.BENCH_CPU_PROF_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
    : [];
  const child = spawn(process.execPath, [...profile, ...args], {
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

/** The value below which `p` percent of `sorted` (ascending) lie. */
export function percentile(sorted, p) {
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
    API_TOKENS: `${TOKEN}:${TENANT}`,
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

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in milliseconds, from `/proc/<pid>/stat`; null when gone. */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing parenthesis are plain.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** The local stack's processes by service (kafka, mongo, redis), from its pid files; none when services are external. */
export function stackPids() {
  const dir = process.env.JOBLINE_STACK_DIR ?? join(root, '.stack');
  const pids = {};
  for (const service of ['kafka', 'mongo', 'redis']) {
    try {
      pids[service] = Number(readFileSync(join(dir, 'run', `${service}.pid`), 'utf8').trim());
    } catch {
      // not run by the local stack
    }
  }
  return pids;
}

/**
 * Samples the CPU time of named processes; `perUnit(n)` gives each one's milliseconds since the sample divided by `n`
 * units of work, and their total.
 */
export function cpuSample(pids) {
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  return {
    perUnit(n) {
      const out = {};
      let total = 0;
      for (const [name, pid] of Object.entries(pids)) {
        const now = cpuMs(pid);
        if (now === null || before[name] === null) continue;
        out[name] = Math.round(((now - before[name]) / n) * 1000) / 1000;
        total += now - before[name];
      }
      out.total = Math.round((total / n) * 1000) / 1000;
      return out;
    },
  };
}
