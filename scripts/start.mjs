#!/usr/bin/env node
// Runs jobline on this machine: the local stack (unless KAFKA_BROKERS, MONGODB_URI and REDIS_URL name existing
// services), a build, then producer, consumer and runner with prefixed logs. Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { build, ensureInfrastructure, root, stopStack } from './local-stack.mjs';

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
    stopStack();
  }
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

for (const name of ['producer', 'consumer', 'runner']) startService(name);
say(`jobline is starting on http://localhost:${port} (Ctrl-C stops it)`);
