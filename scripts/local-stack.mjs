// Brings up the infrastructure jobline needs on this machine, unless KAFKA_BROKERS, MONGODB_URI and REDIS_URL all
// name existing services. Fills process.env with the addresses. Used by `npm start` and `npm run bench`.
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stackScript = join(root, 'scripts', 'stack.sh');
const dashboardBuild = join(root, 'scripts', 'build-dashboard.mjs');

/** @returns {{ startedStack: boolean, external: boolean }} */
export function ensureInfrastructure(say) {
  const external = ['KAFKA_BROKERS', 'MONGODB_URI', 'REDIS_URL'].filter((name) => process.env[name]);
  if (external.length === 3) {
    say(`using the services named by ${external.join(', ')}`);
    return { startedStack: false, external: true };
  }
  if (external.length > 0) say(`${external.join(', ')} set; the local stack provides the rest`);
  // `stack.sh status` exits 0 only when all its services run; otherwise this run starts (and later stops) them.
  const startedStack = spawnSync('bash', [stackScript, 'status'], { stdio: 'ignore' }).status !== 0;
  // The stack's messages go to stderr, so that stdout stays clean for what the caller prints (the bench's JSON).
  const start = spawnSync('bash', [stackScript, 'start'], { stdio: ['ignore', 2, 2] });
  if (start.status !== 0) throw new Error('the local stack did not start (see above)');
  const env = execFileSync('bash', [stackScript, 'env'], { encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const [key, ...rest] = line.split('=');
    if (key && rest.length > 0 && !process.env[key]) process.env[key] = rest.join('=');
  }
  return { startedStack, external: false };
}

export function stopStack() {
  spawnSync('bash', [stackScript, 'stop'], { stdio: 'inherit' });
}

/**
 * The services (tsc) and the dashboard, which skips its build when nothing it is made from changed. What the builds
 * print goes to stderr: the benchmarks' stdout is one JSON document.
 */
export function build() {
  for (const args of [[join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b'], [dashboardBuild]]) {
    const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 2, 2] });
    if (result.status !== 0) throw new Error('the build failed');
  }
}
