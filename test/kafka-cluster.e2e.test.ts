import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import {
  TERMINAL_STATUSES,
  createIdempotentProducer,
  topicNames,
  type JobDocument,
  type JobStatus,
  type JobView,
} from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { KafkaCluster, fullyInSync, partitionLeader } from './kafka-cluster';
import { auditLog, logEnds, type AuditFindings } from './log-audit';
import { startJobline, type Jobline } from './service-process';

const CLEAN: Partial<AuditFindings> = {
  unfinished: [],
  statusChanged: [],
  foldMismatches: [],
  duplicateStoredEvents: [],
  unstoredEvents: [],
  strayStoredEvents: [],
};

/** Submissions a second while a broker fails, sent one after another. */
const RATE_PER_SECOND = 10;

/**
 * jobline on a three-broker Kafka cluster (replication factor 3, min.insync.replicas=2) of its own, started by
 * scripts/stack.sh whatever infrastructure the other tests use (MongoDB and Redis are theirs): with one broker down,
 * even the leader of a partition killed mid-write, every job the producer accepted (202) is run and finished exactly
 * once; with two down, the producer refuses jobs (503) rather than accept what a single broker holds, the jobs that
 * were running finish once the brokers are back, and new ones are accepted again.
 */
/**
 * Starts the services as their supervisor would (`npm start`, a container's restart policy): a service that exits
 * while starting is started again. On a cluster whose topics were just created, a broker may not know them yet when a
 * service first asks it ("This server does not host this topic-partition"), and the service exits.
 */
async function startSupervised(start: () => Promise<Jobline>, attempts = 3): Promise<Jobline> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts || !/exited \(1\)/.test(String(err))) throw err;
    }
  }
}

describe('a three-broker Kafka cluster', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const mongo = new MongoClient(testInfra().mongoUri);
  const accepted = new Set<string>();
  const headers = { authorization: 'Bearer cluster-token', 'content-type': 'application/json' };
  let cluster: KafkaCluster;
  let kafka: Kafka;
  let jobline: Jobline;

  /** A short job; every fifth fails once and is retried after a short backoff. */
  const jobBody = (i: number) => ({
    type: 'sleep',
    payload: { ms: 50 + (i % 4) * 50, ...(i % 5 === 0 ? { failAttempts: 1 } : {}) },
    backoff: { type: 'fixed', delayMs: 200 },
  });

  /** Submits a job; answers with the response's status (0 when the request failed); remembers accepted ids. */
  const submit = async (job: unknown): Promise<{ status: number; body?: unknown; retryAfter?: string | null }> => {
    const res = await fetch(`${jobline.base}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(job) }).catch(
      () => null,
    );
    if (!res) return { status: 0 };
    const body = await readJson(res);
    if (res.status === 202) accepted.add((body as JobView).id);
    return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
  };

  /** Submits jobs one after another at a steady rate until stopped; counts the answers by status. */
  const submitSteadily = () => {
    const statuses = new Map<number, number>();
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        const started = performance.now();
        const { status } = await submit(jobBody(i));
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        await sleep(Math.max(0, 1000 / RATE_PER_SECOND - (performance.now() - started)));
      }
    })();
    return {
      accepted: () => statuses.get(202) ?? 0,
      statuses,
      stop: async () => {
        running = false;
        await loop;
      },
    };
  };

  const countAccepted = (statuses: readonly JobStatus[]) =>
    mongo
      .db(ns.database)
      .collection<JobDocument>('jobs')
      .countDocuments({ _id: { $in: [...accepted] }, status: { $in: [...statuses] } });

  const untilAllFinished = () =>
    waitFor(async () => (await countAccepted([...TERMINAL_STATUSES])) === accepted.size, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: `${accepted.size} accepted jobs to finish`,
    });

  /** Every value in a topic's one partition, in log order. */
  const topicValues = async (topic: string): Promise<string[]> => {
    const ends = await logEnds(kafka, topic);
    const values: string[] = [];
    const reader = kafka.consumer({ groupId: `${ns.id}-${topic}` });
    await reader.connect();
    try {
      await reader.subscribe({ topic, fromBeginning: true });
      await reader.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString('utf8'));
        },
      });
      await waitFor(() => values.length >= (ends.get(0) ?? 0), { timeoutMs: 30_000, description: `all of ${topic}` });
    } finally {
      await reader.disconnect();
    }
    return values;
  };

  const expectConsistent = async () => {
    expect(await auditLog(kafka, topics.events, mongo.db(ns.database), accepted)).toMatchObject(CLEAN);
  };

  beforeAll(async () => {
    cluster = await KafkaCluster.start();
    kafka = cluster.client('cluster-e2e');
    jobline = await startSupervised(() =>
      startJobline(ns, {
        KAFKA_BROKERS: cluster.brokers.join(','),
        KAFKA_REPLICATION_FACTOR: '3',
        KAFKA_MIN_INSYNC_REPLICAS: '2',
        KAFKA_SESSION_TIMEOUT_MS: '10000',
        API_TOKENS: 'cluster-token:cluster',
        RUNNER_CONCURRENCY: '16',
      }),
    );
    await mongo.connect();
    // A service that exits while starting is only seen to have exited once its start deadline (60 s) has passed.
  }, 240_000);

  afterAll(async () => {
    await jobline?.stop();
    await cluster?.destroy();
    await mongo.close();
  });

  it('creates its topics with three replicas, two of which must have every write', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topics.events] });
      expect(metadata.topics[0]!.partitions.map((p) => p.replicas.length)).toEqual([3, 3, 3]);
      const { resources } = await admin.describeConfigs({
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topics.events, configNames: ['min.insync.replicas'] }],
        includeSynonyms: false,
      });
      expect(resources[0]!.configEntries).toEqual([
        expect.objectContaining({ configName: 'min.insync.replicas', configValue: '2', isDefault: false }),
      ]);
    } finally {
      await admin.disconnect();
    }
  });

  it('keeps the send that follows one the leader appended but could not acknowledge', async () => {
    const topic = `${ns.topicPrefix}sequence-check`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: false });
      await waitFor(() => fullyInSync(kafka, topic), { timeoutMs: 30_000, description: `${topic} in sync` });
    } finally {
      await admin.disconnect();
    }
    const leader = await partitionLeader(kafka, topic, 0);
    const follower = cluster.nodes.find((node) => node !== leader)!;
    // Bootstrapped from the leader, the producer asks it for metadata; a request that reaches the paused follower all
    // the same times out well before the leader would drop the follower from the in-sync replicas (after 30 s).
    const leaderOnly = new Kafka({
      brokers: [cluster.address(leader)],
      clientId: 'sequence-check',
      requestTimeout: 3000,
      logLevel: logLevel.NOTHING,
    });
    await waitFor(async () => (await partitionLeader(leaderOnly, topic, 0)) === leader, {
      description: `${leader} to know it leads ${topic}`,
    });
    const producer = createIdempotentProducer(leaderOnly, {
      maxInFlightRequests: 1,
      retry: { retries: 1, initialRetryTime: 100, maxRetryTime: 200 },
    });
    const send = (value: string, timeout?: number) =>
      producer.sendBatch({ acks: -1, timeout, topicMessages: [{ topic, messages: [{ value }] }] });
    await producer.connect();
    try {
      await send('first');
      // The leader appends the batch, then waits in vain for the paused follower until the request times out.
      await cluster.pauseNodes(follower);
      try {
        await expect(send('appended, not acknowledged', 1000)).rejects.toThrow();
      } finally {
        await cluster.resumeNodes(follower);
      }
      await send('next');
    } finally {
      await producer.disconnect();
    }

    expect(await topicValues(topic)).toEqual(['first', 'appended, not acknowledged', 'next']);
  });

  it('finishes every accepted job exactly once when the leader of a partition is killed and comes back', async () => {
    const submissions = submitSteadily();
    try {
      await waitFor(() => submissions.accepted() >= 20, { timeoutMs: 30_000, description: 'jobs accepted' });
      const leader = await partitionLeader(kafka, topics.events, 0);
      await cluster.killNodes(leader);
      const atKill = submissions.accepted();

      // The quorum fences the dead node once its session expires and another replica takes the partition over.
      await waitFor(async () => (await partitionLeader(kafka, topics.events, 0)) !== leader, {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: `a new leader of partition 0 after ${leader} was killed`,
      });
      await waitFor(() => submissions.accepted() >= atKill + 20, {
        timeoutMs: 30_000,
        description: `jobs accepted with ${leader} down`,
      });

      await cluster.startNodes(leader);
      await waitFor(() => fullyInSync(kafka, topics.events), {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: `${leader} back among the in-sync replicas`,
      });
      const atRestart = submissions.accepted();
      await waitFor(() => submissions.accepted() >= atRestart + 10, {
        timeoutMs: 30_000,
        description: `jobs accepted with ${leader} back`,
      });
    } finally {
      await submissions.stop();
    }

    await untilAllFinished();
    await expectConsistent();
  });

  it('answers 503, not 202, while fewer than two replicas are in sync, and 202 again once they are', async () => {
    // Jobs still running when the brokers go: their outcomes cannot be written until the brokers are back.
    const running = await Promise.all(
      Array.from({ length: 8 }, () => submit({ type: 'sleep', payload: { ms: 6000 } })),
    );
    expect(running.map((r) => r.status)).toEqual(running.map(() => 202));
    await waitFor(async () => (await countAccepted(['processing'])) === running.length, {
      timeoutMs: 30_000,
      description: 'the long jobs to be running',
    });

    await cluster.stopNodes('kafka-2', 'kafka-3');
    try {
      for (let i = 0; i < 3; i++) {
        const { status, body, retryAfter } = await submit(jobBody(i));
        expect({ status, code: (body as { code?: string } | undefined)?.code }).toEqual({
          status: 503,
          code: 'KAFKA_UNAVAILABLE',
        });
        expect(Number(retryAfter)).toBeGreaterThan(0);
      }
    } finally {
      await cluster.startNodes('kafka-2', 'kafka-3');
    }

    let i = 0;
    await waitFor(async () => (await submit(jobBody(i++))).status === 202, {
      timeoutMs: 30_000,
      intervalMs: 100,
      description: 'a job accepted with the brokers back',
    });
    await untilAllFinished();
    await expectConsistent();
  });
});
