#!/usr/bin/env node
// Runs jobline on this machine: the local stack (unless KAFKA_BROKERS, MONGODB_URI and REDIS_URL name existing
// services), a build, then producer, consumer and runner with prefixed logs. Ctrl-C stops everything it started.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stackScript = join(root, 'scripts', 'stack.sh');
const port = Number(process.env.PORT ?? 3000);
const colours = { producer: 36, consumer: 35, runner: 33 };

function say(message) {
  process.stdout.write(`\x1b[1m[jobline]\x1b[0m ${message}\n`);
}

function fail(message) {
  process.stderr.write(`[jobline] ${message}\n`);
  process.exit(1);
}

async function portIsFree(p) {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(p, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

if (!(await portIsFree(port))) {
  fail(`port ${port} is already in use: is jobline already running? Stop it, or choose another port with PORT=...`);
}

const external = ['KAFKA_BROKERS', 'MONGODB_URI', 'REDIS_URL'].filter((name) => process.env[name]);
let startedStack = false;
if (external.length === 3) {
  say(`using the services named by ${external.join(', ')}`);
} else {
  if (external.length > 0) say(`${external.join(', ')} set; the local stack provides the rest`);
  const status = spawnSync('bash', [stackScript, 'status'], { encoding: 'utf8' });
  startedStack = !/running/.test(status.stdout ?? '');
  const start = spawnSync('bash', [stackScript, 'start'], { stdio: 'inherit' });
  if (start.status !== 0) fail('the local stack did not start (see above)');
  const env = execFileSync('bash', [stackScript, 'env'], { encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const [key, ...rest] = line.split('=');
    if (key && rest.length > 0 && !process.env[key]) process.env[key] = rest.join('=');
  }
}

say('building');
const build = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], {
  cwd: root,
  stdio: 'inherit',
});
if (build.status !== 0) fail('the build failed');

const children = new Map();
let stopping = false;

function startService(name) {
  const child = spawn(process.execPath, [join(root, name, 'dist', 'main.js')], {
    cwd: root,
    env: { LOG_FORMAT: 'pretty', ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = `\x1b[${colours[name]}m${name.padEnd(8)}|\x1b[0m `;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(prefix + line + '\n');
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping everything`);
      void stopAll(1);
    }
  });
  children.set(name, child);
}

async function stopAll(exitCode) {
  if (stopping) return;
  stopping = true;
  say('stopping services');
  await Promise.all(
    [...children.values()].map(
      (child) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  if (startedStack) {
    say('stopping the local stack');
    spawnSync('bash', [stackScript, 'stop'], { stdio: 'inherit' });
  }
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

for (const name of ['producer', 'consumer', 'runner']) startService(name);
say(`jobline is starting on http://localhost:${port} (Ctrl-C stops it)`);
