import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JobView } from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { settledView } from './job-settled';
import { freePort, type ServiceName } from './service-process';

const ROOT = join(__dirname, '..');

/** The commands of the README's quick start that follow `npm start`: its `curl` lines, continuations joined. */
function quickStartCommands(readme: string): string[] {
  const start = readme.indexOf('\n## Quick start');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const block = /```sh\n(curl [\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('the README quick start has no sh block of curl commands');
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith('curl '));
}

/** Whether a process still exists (start.mjs reaps its children before it exits, so a stopped one does not). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `npm start` (scripts/start.mjs) as a developer runs it, on the test's infrastructure (it starts no stack when
 * KAFKA_BROKERS, MONGODB_URI and REDIS_URL are set): a service killed under it comes back after its backoff, and
 * SIGINT stops every service it started.
 */
describe('npm start', () => {
  const ns = testNamespace();
  const headers = { authorization: 'Bearer start-token', 'content-type': 'application/json' };
  const lines: string[] = [];
  let start: ChildProcess;
  let base: string;

  /** The services start.mjs announced, in order, from its own lines (`[jobline] runner started (pid 123)`). */
  const announced = () =>
    lines.flatMap((line) => {
      const match = /\[jobline\].* (producer|consumer|runner) (started|restarted) \(pid (\d+)\)/.exec(line);
      return match
        ? [{ name: match[1] as ServiceName, restarted: match[2] === 'restarted', pid: Number(match[3]) }]
        : [];
    });
  const pidOf = (name: ServiceName) => {
    const pid = announced().findLast((service) => service.name === name)?.pid;
    if (pid === undefined) throw new Error(`start.mjs announced no ${name} pid:\n${lines.join('\n')}`);
    return pid;
  };
  const logged = (pattern: RegExp) => lines.some((line) => pattern.test(line));
  const startExited = () => start.exitCode !== null || start.signalCode !== null;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    start = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...ns.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        // The README's quick start authenticates with the development token.
        API_TOKENS: 'start-token:start,dev-token:dev',
        // A runner killed without leaving its group holds its partitions until its session expires.
        KAFKA_SESSION_TIMEOUT_MS: '6000',
        // The services' ops ports would collide with anything else running on this machine.
        METRICS_PORT: '0',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Lines whole, even when a read ends inside one: the assertions match on complete lines.
    for (const stream of [start.stdout!, start.stderr!]) {
      let rest = '';
      stream.on('data', (chunk: Buffer) => {
        const parts = (rest + chunk.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        lines.push(...parts.filter(Boolean));
      });
    }
    await waitFor(
      async () => {
        if (startExited()) throw new Error(`start.mjs exited (${start.exitCode}):\n${lines.join('\n')}`);
        return (await fetch(`${base}/health`)).ok;
      },
      { timeoutMs: 60_000, intervalMs: 200, description: 'the API to answer' },
    );
    await waitFor(() => logged(/runner\s*\|.*runner consuming/), { timeoutMs: 30_000, description: 'the runner' });
  });

  afterAll(async () => {
    if (start && !startExited()) start.kill('SIGKILL');
    for (const { pid } of announced()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('prints the address of the dashboard, which the producer serves there', async () => {
    const port = new URL(base).port;
    expect(lines.some((line) => line.includes(`dashboard: http://localhost:${port}/ui`))).toBe(true);
    const page = await fetch(`${base}/ui`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it("runs the README's quick-start requests as written, and the job they create completes", async () => {
    const [create, read] = quickStartCommands(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect([create, read]).toEqual([expect.stringContaining('POST'), expect.stringContaining('<id>')]);
    // Only where the API answers changes: this test's port, not the README's 3000.
    const sh = async (command: string) =>
      (await promisify(execFile)('sh', ['-c', command.replaceAll('localhost:3000', base)])).stdout;

    const created = await sh(create!);
    expect(created).toMatch(/^HTTP\/1\.1 202 Accepted/);
    const id = /^location: \/v1\/jobs\/(\S+)\r?$/im.exec(created)?.[1];
    expect(id).toBeDefined();
    const view = await waitFor(
      async () => {
        const job = JSON.parse(await sh(read!.replace('<id>', id!))) as JobView;
        return job.status === 'completed' ? job : false;
      },
      { timeoutMs: 30_000, intervalMs: 200, description: 'the quick-start job to complete' },
    );
    expect(view).toMatchObject({ id, type: 'sleep', attempts: 1 });
  });

  it('restarts the runner after it is killed, and a job submitted then completes', async () => {
    const killed = pidOf('runner');
    process.kill(killed, 'SIGKILL');

    await waitFor(() => logged(/\[jobline\].* runner exited \(SIGKILL\); restarting in 1s/), {
      timeoutMs: 10_000,
      description: 'start.mjs to log the runner exit and its restart',
    });
    const res = await fetch(`${base}/v1/jobs`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ type: 'sleep', payload: { ms: 50 } }),
    });
    expect(res.status).toBe(202);
    const job = (await readJson(res)) as JobView;

    const view = await settledView(`${base}/v1/jobs/${job.id}`, headers, 45_000);
    expect(view.status).toBe('completed');
    const restarted = announced().filter((service) => service.name === 'runner' && service.restarted);
    expect(restarted).toHaveLength(1);
    expect(restarted[0]!.pid).not.toBe(killed);
    expect(alive(killed)).toBe(false);
    expect(alive(restarted[0]!.pid)).toBe(true);
  });

  it('stops every service it started on SIGINT, restarting none, and exits', async () => {
    const services = announced();
    const running = (['producer', 'consumer', 'runner'] as const).map(pidOf);
    expect(running.every(alive)).toBe(true);

    start.kill('SIGINT');
    await waitFor(startExited, { timeoutMs: 30_000, description: 'start.mjs to stop' });

    expect(start.exitCode).toBe(0);
    expect(services.map(({ pid }) => pid).filter(alive)).toEqual([]);
    expect(announced()).toEqual(services);
    const stopping = lines.findIndex((line) => line.includes('stopping services'));
    expect(stopping).toBeGreaterThan(-1);
    expect(lines.slice(stopping).some((line) => /exited .*restarting/.test(line))).toBe(false);
  });
});
