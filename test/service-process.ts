import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Env } from '@jobline/libs';
import { testInfra, waitFor, type TestNamespace } from '@jobline/libs/testing';
import { MongoClient } from 'mongodb';

const ROOT = join(__dirname, '..');

export type ServiceName = 'producer' | 'consumer' | 'runner';

const READY_MESSAGE: Record<ServiceName, string> = {
  producer: 'producer listening',
  consumer: 'persister consuming',
  runner: 'runner consuming',
};

/** A service started from its build output, as an operator would run it, with its log kept for assertions. */
export class ServiceProcess {
  readonly lines: string[] = [];
  private exited: Promise<number | null>;

  private constructor(
    readonly name: ServiceName,
    private readonly child: ChildProcess,
    /** Where `/metrics`, `/health` and `/ready` answer. */
    readonly metricsPort: number,
  ) {
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(name: ServiceName, env: Env): Promise<ServiceProcess> {
    // Each process gets its own ops port, so that several instances of a service can run side by side.
    const metricsPort = env.METRICS_PORT ? Number(env.METRICS_PORT) : await freePort();
    const child = spawn(process.execPath, [join(ROOT, name, 'dist', 'main.js')], {
      env: { PATH: process.env.PATH, LOG_LEVEL: 'info', ...env, METRICS_PORT: String(metricsPort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(name, child, metricsPort);
    await waitFor(
      () => {
        if (child.exitCode !== null)
          throw new Error(`${name} exited (${child.exitCode}):\n${service.lines.join('\n')}`);
        return service.lines.some((line) => line.includes(READY_MESSAGE[name]));
      },
      { timeoutMs: 60_000, description: `${name} to start` },
    );
    return service;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Stops the process: SIGTERM lets it finish cleanly, SIGKILL is a crash. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Producer, consumer and runner of one test namespace, running side by side; `base` is where the API answers. */
export interface Jobline {
  readonly base: string;
  readonly services: ServiceProcess[];
  /** Stops the three services and drops the namespace's database. */
  stop(): Promise<void>;
}

/**
 * The environment of the services of one test namespace, the producer on a free loopback port, and `base`, where its
 * API answers: for a test that starts, stops and restarts the services one by one. `env` adds to or overrides it; a
 * function of `base` serves settings that name it.
 */
export async function joblineEnv(
  ns: TestNamespace,
  env: Env | ((base: string) => Env) = {},
): Promise<{ base: string; env: Env }> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    env: { ...ns.env, PORT: String(port), HOST: '127.0.0.1', ...(typeof env === 'function' ? env(base) : env) },
  };
}

/**
 * Starts the three services on the namespace's topics, database and keys, the producer on a free loopback port.
 * `env` adds to or overrides that environment; a function of the API's base URL serves settings that name it.
 */
export async function startJobline(ns: TestNamespace, env: Env | ((base: string) => Env) = {}): Promise<Jobline> {
  const { base, env: serviceEnv } = await joblineEnv(ns, env);
  const starts = await Promise.allSettled(
    (['producer', 'consumer', 'runner'] as const).map((name) => ServiceProcess.start(name, serviceEnv)),
  );
  const services = starts.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = starts.find((s) => s.status === 'rejected');
  if (failed) {
    // The services that did start would keep the test process alive after the failure.
    await Promise.all(services.map((s) => s.stop()));
    throw failed.reason;
  }
  return {
    base,
    services,
    async stop() {
      await Promise.all(services.map((s) => s.stop()));
      const mongo = new MongoClient(testInfra().mongoUri);
      await mongo.db(ns.database).dropDatabase();
      await mongo.close();
    },
  };
}
