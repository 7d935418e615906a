import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import type { JobView } from '@jobline/libs';
import { metricValue, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';
import { freePort, ServiceProcess } from './service-process';

interface LogLine {
  message?: string;
  pid?: number;
  requestId?: string;
  code?: number | null;
}

interface Answer {
  status: number;
  body: string;
}

/** Whether a process still exists (a worker the primary has reaped no longer does). */
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The producer with PRODUCER_WORKERS=2: a primary that forks two workers sharing the API port, restarts them when they
 * die and serves the ops port for both. Which worker answered a request is read from the request logs, where each
 * worker's lines carry its pid; no response header tells clients.
 */
describe('producer with two workers', () => {
  const ns = testNamespace();
  let producer: ServiceProcess;
  let port: number;
  let requestsMade = 0;
  let nextRequest = 0;

  const logs = (): LogLine[] =>
    producer.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine];
      } catch {
        return [];
      }
    });
  const pidsLogging = (message: string) =>
    logs().flatMap((line) => (line.message === message && line.pid !== undefined ? [line.pid] : []));
  /** Workers that listened and have not died since, from the primary's log. */
  const listeningWorkers = () => {
    const gone = new Set(pidsLogging('producer worker exited'));
    return [...new Set(pidsLogging('producer worker listening'))].filter((pid) => !gone.has(pid));
  };
  const untilListening = (count: number) =>
    waitFor(() => (listeningWorkers().length === count ? listeningWorkers() : undefined), {
      timeoutMs: 30_000,
      description: `${count} listening workers`,
    });

  /**
   * One request on a connection of its own, as separate clients make them (the primary hands each new connection to
   * the next worker; a kept-alive one stays with its worker). Resolves with the answer and the pid that served it.
   */
  const call = async (method: string, path: string, body?: unknown): Promise<Answer & { pid: number }> => {
    const requestId = `${ns.id}-${nextRequest++}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: false,
          headers: {
            authorization: 'Bearer workers-token',
            'x-request-id': requestId,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
    requestsMade += 1;
    const pid = await waitFor(
      () => logs().find((line) => line.message === 'http request' && line.requestId === requestId)?.pid,
      { timeoutMs: 5000, description: `the request log of ${requestId}` },
    );
    return { ...answer, pid };
  };
  const ops = (path: string) => fetch(`http://127.0.0.1:${producer.metricsPort}${path}`);

  beforeAll(async () => {
    port = await freePort();
    producer = await ServiceProcess.start('producer', {
      ...ns.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_TOKENS: 'workers-token:workers',
      PRODUCER_WORKERS: '2',
      // Successful requests are logged at debug; the test finds the worker that served one from its log line.
      LOG_LEVEL: 'debug',
    });
  });

  afterAll(async () => {
    await producer?.stop('SIGKILL');
    const mongo = new MongoClient(testInfra().mongoUri);
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('answers requests from two worker processes, neither of them the primary', async () => {
    const workers = await untilListening(2);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await call('GET', '/health'));

    expect(answers.map((answer) => answer.status)).toEqual(Array(6).fill(200));
    expect(new Set(answers.map((answer) => answer.pid))).toEqual(new Set(workers));
    expect(workers).not.toContain(producer.pid);
  });

  it('accepts a job through one worker and reads it back through both', async () => {
    const created = await call('POST', '/v1/jobs', { type: 'noop' });
    expect(created.status).toBe(202);
    const job = JSON.parse(created.body) as JobView;

    const reads = [];
    for (let i = 0; i < 4; i++) reads.push(await call('GET', `/v1/jobs/${job.id}`));

    expect(reads.map((read) => read.status)).toEqual([200, 200, 200, 200]);
    expect(reads.map((read) => (JSON.parse(read.body) as JobView).id)).toEqual(Array(4).fill(job.id));
    expect(new Set(reads.map((read) => read.pid)).size).toBe(2);
  });

  it('serves every worker’s metrics, added up, and readiness on the primary’s ops port', async () => {
    // Each worker counts only what it served: the sum equals every request made only if both are scraped.
    const text = await waitFor(
      async () => {
        const body = await (await ops('/metrics')).text();
        return metricValue(body, 'jobline_http_request_duration_seconds_count') === requestsMade ? body : undefined;
      },
      { timeoutMs: 10_000, description: `the request count to reach ${requestsMade}` },
    );
    expect(metricValue(text, 'jobline_jobs_created_total', { type: 'noop' })).toBe(1);
    expect(metricValue(text, 'jobline_producer_workers_listening')).toBe(2);
    expect(metricValue(text, 'jobline_producer_worker_restarts_total')).toBe(0);
    expect(metricValue(text, 'process_cpu_seconds_total', { service: 'producer' })).toBeGreaterThan(0);

    const ready = await ops('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { workers: { status: 'up' } } });
    expect((await ops('/health')).status).toBe(200);
  });

  it('replaces a worker killed with SIGKILL while the other keeps answering', async () => {
    const [victim, survivor] = await untilListening(2);
    process.kill(victim!, 'SIGKILL');
    await waitFor(() => pidsLogging('producer worker exited').includes(victim!), {
      timeoutMs: 10_000,
      description: 'the primary to notice the killed worker',
    });

    const meanwhile = [];
    for (let i = 0; i < 4; i++) meanwhile.push(await call('GET', '/health'));
    expect(meanwhile.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(meanwhile.map((answer) => answer.pid)).not.toContain(victim);

    const workers = await untilListening(2);
    const replacement = workers.find((pid) => pid !== survivor)!;
    expect(workers).toContain(survivor);
    expect([victim, producer.pid]).not.toContain(replacement);
    expect(alive(victim!)).toBe(false);

    const after = [];
    for (let i = 0; i < 4; i++) after.push(await call('GET', '/health'));
    expect(after.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(after.map((answer) => answer.pid))).toEqual(new Set([survivor, replacement]));
    const text = await (await ops('/metrics')).text();
    expect(metricValue(text, 'jobline_producer_worker_restarts_total')).toBe(1);
    expect(metricValue(text, 'jobline_producer_workers_listening')).toBe(2);
  });

  it('drains every worker on SIGTERM to the primary, which then exits 0', async () => {
    const workers = await untilListening(2);

    expect(await producer.stop('SIGTERM')).toBe(0);
    expect(workers.filter(alive)).toEqual([]);
    // Each worker ran its own graceful shutdown rather than being killed.
    expect(pidsLogging('shutting down').sort()).toEqual([...workers].sort());
  });
});

describe('producer whose workers cannot start', () => {
  it('restarts them with growing waits, then gives up and exits 1, leaving no worker behind', async () => {
    const closedPort = await freePort();
    const lines: string[] = [];
    const child = spawn(process.execPath, [join(__dirname, '..', 'producer', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        ...testNamespace().env,
        MONGODB_URI: `mongodb://127.0.0.1:${closedPort}`,
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
        METRICS_PORT: String(await freePort()),
        PRODUCER_WORKERS: '2',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const entries = lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogLine & { slot?: number; restartInMs?: number; startFailures?: number }];
      } catch {
        return [];
      }
    });

    expect(code).toBe(1);
    const givingUp = entries.find((entry) => entry.message === 'producer workers keep failing to start, giving up');
    expect(givingUp).toMatchObject({ startFailures: 3 });
    const waits = entries
      .filter((entry) => entry.message === 'producer worker exited' && entry.slot === givingUp?.slot)
      .map((entry) => entry.restartInMs ?? 0);
    // The default policy: 1 s, then 2 s, each drawn from its upper half; the third failed start ends it.
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[0]).toBeLessThanOrEqual(1000);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);
    expect(waits[1]).toBeLessThanOrEqual(2000);
    const started = entries.flatMap((entry) => (entry.message === 'producer worker started' ? [entry.pid!] : []));
    expect(started.filter(alive)).toEqual([]);
  });
});
