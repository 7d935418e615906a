import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import {
  createKafkaEventPublisher,
  decodeEvent,
  topicNames,
  type JobEventOf,
  type KafkaEventPublisher,
} from '@jobline/libs';
import { aJobRequested, metricValue, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { ServiceProcess } from './service-process';

const BACKLOG = 100_000;
const SMALL_JOBS = 10;
/** How long a small tenant's job may wait to start, from its request, while the big backlog drains. */
const START_WITHIN_MS = 5000;

/**
 * Fair sharing between tenants, with a runner process on real Kafka: tenant `big` has 100,000 jobs waiting, and is
 * capped at 6 of the runner's 8 slots (`RUNNER_TENANT_LIMITS`). Tenant `small` then asks for a few jobs: each starts
 * within seconds, long before the backlog in front of it in the log has drained.
 */
describe("a tenant's few jobs behind another tenant's backlog of 100,000", () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const kafka = new Kafka({ brokers: testInfra().brokers, clientId: 'fairness-e2e', logLevel: logLevel.NOTHING });
  let runner: ServiceProcess;
  let publisher: KafkaEventPublisher;
  let watcher: Consumer;
  /** When each job started, by job id, as its `JobStarted` event says. */
  const startedAt = new Map<string, number>();
  const bigStarted = () => [...startedAt.keys()].filter((id) => bigIds.has(id)).length;
  const bigIds = new Set<string>();

  const metric = async (name: string) =>
    metricValue(await (await fetch(`http://127.0.0.1:${runner.metricsPort}/metrics`)).text(), name);

  beforeAll(async () => {
    runner = await ServiceProcess.start('runner', {
      ...ns.env,
      RUNNER_CONCURRENCY: '8',
      RUNNER_TENANT_LIMITS: 'big=6',
    });
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 30_000, maxBatchMessages: 2000 });
    await publisher.connect();
    watcher = kafka.consumer({ groupId: `fairness-watch-${randomUUID()}` });
    await watcher.connect();
    await watcher.subscribe({ topic: topics.events, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        const decoded = decodeEvent(message.value);
        if (decoded.ok && decoded.event.type === 'JobStarted') {
          startedAt.set(decoded.event.jobId, Date.parse(decoded.event.occurredAt));
        }
      },
    });
  }, 120_000);

  afterAll(async () => {
    await runner?.stop('SIGKILL');
    await Promise.allSettled([publisher?.disconnect(), watcher?.disconnect()]);
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topics.events] }).catch(() => undefined);
    await admin.disconnect();
  });

  it("starts each of the small tenant's jobs within seconds while the big backlog drains", async () => {
    // given: big's 100,000 jobs of 100 ms each, read by the runner and waiting for slots
    for (let i = 0; i < BACKLOG; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, BACKLOG - i) }, () =>
        aJobRequested({ tenantId: 'big', type: 'sleep', payload: { ms: 100 } }),
      );
      for (const job of batch) bigIds.add(job.jobId);
      await publisher.publish(batch);
    }
    await waitFor(async () => ((await metric('jobline_runner_jobs_queued')) ?? 0) > BACKLOG * 0.9, {
      timeoutMs: 120_000,
      intervalMs: 500,
      description: 'the runner to read the backlog',
    });

    // when: small asks for its jobs one by one
    const small: JobEventOf<'JobRequested'>[] = [];
    for (let i = 0; i < SMALL_JOBS; i++) {
      const job = aJobRequested({ tenantId: 'small', type: 'sleep', payload: { ms: 100 } });
      small.push(job);
      await publisher.publish([job]);
    }

    // then: every one starts within seconds of its request, with most of big's backlog still waiting
    await waitFor(() => small.every((job) => startedAt.has(job.jobId)), {
      timeoutMs: 30_000,
      description: "the small tenant's jobs to start",
    });
    const waits = small.map((job) => startedAt.get(job.jobId)! - Date.parse(job.occurredAt));
    process.stdout.write(
      `fairness: the small tenant's jobs started after ${waits.join(', ')} ms; ` +
        `${bigStarted()} of the ${BACKLOG} big jobs had started\n`,
    );
    expect(Math.max(...waits)).toBeLessThan(START_WITHIN_MS);
    expect(bigStarted()).toBeLessThan(BACKLOG / 2);
  }, 300_000);
});
