#!/usr/bin/env node
// Runs jobline on this machine: the local stack (unless KAFKA_BROKERS, MONGODB_URI and REDIS_URL name existing
// services), a build, then producer, consumer and runner with prefixed logs. A service that exits is started again
// after a backoff. Ctrl-C (or SIGTERM) stops everything it started.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { build, ensureInfrastructure, root, stopStack } from './local-stack.mjs';
import { decideRestart } from './restart-backoff.cjs';

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

let startedStack = false;
try {
  ({ startedStack } = ensureInfrastructure(say));
  say('building');
  build();
} catch (err) {
  fail(err.message);
}

/** Per service: the running process, when it started, and its failures in a row for the backoff. */
const services = new Map();
let stopping = false;

function startService(name) {
  const restarted = services.has(name);
  const service = services.get(name) ?? { failures: 0 };
  services.set(name, service);
  const child = spawn(process.execPath, [join(root, name, 'dist', 'main.js')], {
    cwd: root,
    env: { LOG_FORMAT: 'pretty', ...process.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  Object.assign(service, { child, startedAt: Date.now(), restartTimer: undefined });
  say(`${name} ${restarted ? 'restarted' : 'started'} (pid ${child.pid})`);
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
    service.child = undefined;
    if (stopping) return;
    const { failures, delayMs } = decideRestart(service.failures, Date.now() - service.startedAt);
    service.failures = failures;
    say(`${name} exited (${signal ?? code}); restarting in ${delayMs / 1000}s`);
    service.restartTimer = setTimeout(() => startService(name), delayMs);
  });
}

async function stopAll() {
  if (stopping) return;
  stopping = true;
  say('stopping services');
  for (const service of services.values()) clearTimeout(service.restartTimer);
  const running = [...services.values()].flatMap((service) => (service.child ? [service.child] : []));
  await Promise.all(
    running.map(
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
    stopStack();
  }
  process.exit(0);
}

process.on('SIGINT', () => void stopAll());
process.on('SIGTERM', () => void stopAll());

for (const name of ['producer', 'consumer', 'runner']) startService(name);
say(`jobline is starting on http://localhost:${port} (Ctrl-C stops it)`);
say(`dashboard: http://localhost:${port}/ui (sign in with dev-token, or a token of API_TOKENS)`);
