import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';

const ROOT = join(__dirname, '..');
const NODES = ['kafka-1', 'kafka-2', 'kafka-3'] as const;
export type ClusterNode = (typeof NODES)[number];

/**
 * A three-node Kafka cluster of the local stack (`KAFKA_NODES=3 scripts/stack.sh`), in a folder of its own and on
 * free loopback ports, so that it runs beside whatever Kafka the other tests use (the local stack's single broker,
 * containers or brokers named by KAFKA_BROKERS) and its nodes can be stopped, killed and restarted one by one. It
 * needs what `scripts/stack.sh install` needs (Java and Maven), whatever infrastructure the other tests run on.
 */
export class KafkaCluster {
  readonly nodes = NODES;

  private constructor(
    private readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    /** Bootstrap addresses of the three nodes, `host:port`. */
    readonly brokers: string[],
  ) {}

  static async start(): Promise<KafkaCluster> {
    const dir = await mkdtemp(join(tmpdir(), 'jobline-cluster-'));
    const base = await freePortRun(6);
    const env = {
      ...process.env,
      JOBLINE_STACK_DIR: dir,
      KAFKA_NODES: '3',
      KAFKA_PORT: String(base),
      KAFKA_CONTROLLER_PORT: String(base + 1),
    };
    const cluster = new KafkaCluster(
      dir,
      env,
      [0, 2, 4].map((offset) => `127.0.0.1:${base + offset}`),
    );
    try {
      await cluster.stack('start', 'kafka');
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
    return cluster;
  }

  /** A kafkajs client of the cluster, for tests' own admin and reads. */
  client(clientId: string): Kafka {
    return new Kafka({ brokers: this.brokers, clientId, logLevel: logLevel.NOTHING });
  }

  /** A node's bootstrap address, `host:port`. */
  address(node: ClusterNode): string {
    return this.brokers[NODES.indexOf(node)]!;
  }

  /** Starts stopped or killed nodes and waits until each has started. */
  startNodes(...nodes: ClusterNode[]): Promise<void> {
    return this.stack('start', ...nodes);
  }

  /** Stops nodes cleanly: each hands its leaderships over and leaves the in-sync replicas before it exits. */
  stopNodes(...nodes: ClusterNode[]): Promise<void> {
    return this.stack('stop', ...nodes);
  }

  /** Kills nodes with SIGKILL: a crash, noticed by the others only when the node's session with the quorum expires. */
  killNodes(...nodes: ClusterNode[]): Promise<void> {
    return this.stack('kill', ...nodes);
  }

  /**
   * Pauses nodes with SIGSTOP: they keep their connections and their place among the in-sync replicas, and answer
   * nothing, as a node does in a long garbage collection pause or a network partition.
   */
  async pauseNodes(...nodes: ClusterNode[]): Promise<void> {
    for (const node of nodes) process.kill(await this.pid(node), 'SIGSTOP');
  }

  async resumeNodes(...nodes: ClusterNode[]): Promise<void> {
    for (const node of nodes) process.kill(await this.pid(node), 'SIGCONT');
  }

  private async pid(node: ClusterNode): Promise<number> {
    return Number(await readFile(join(this.dir, 'run', `${node}.pid`), 'utf8'));
  }

  /** Kills every node and deletes the cluster's folder. */
  async destroy(): Promise<void> {
    try {
      await this.stack('kill', 'kafka');
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }

  /** Runs scripts/stack.sh on this cluster; rejects with its output when it fails. */
  private stack(...args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [join(ROOT, 'scripts/stack.sh'), ...args], {
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
      child.once('error', reject);
      child.once('close', (code) => {
        if (code === 0) resolve();
        else
          reject(
            new Error(
              `scripts/stack.sh ${args.join(' ')} (KAFKA_NODES=3, JOBLINE_STACK_DIR=${this.dir}) exited ${code}:\n` +
                Buffer.concat(output).toString('utf8'),
            ),
          );
      });
    });
  }
}

/** The node that leads a partition now, as metadata from the cluster tells it. */
export async function partitionLeader(kafka: Kafka, topic: string, partition: number): Promise<ClusterNode> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const leader = metadata.topics[0]?.partitions.find((p) => p.partitionId === partition)?.leader;
    const node = NODES.find((name) => name === `kafka-${leader}`);
    if (!node) throw new Error(`partition ${partition} of ${topic} has no leader (${leader})`);
    return node;
  } finally {
    await admin.disconnect();
  }
}

/** Whether every partition of the topic has all three replicas in sync. */
export async function fullyInSync(kafka: Kafka, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return metadata.topics[0]!.partitions.every((p) => p.isr.length === NODES.length);
  } finally {
    await admin.disconnect();
  }
}

/** The first of `count` consecutive loopback ports that are all free, from a random start. */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 5_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base;
  }
  throw new Error(`found no ${count} consecutive free ports on 127.0.0.1`);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
