import {
  allTopics,
  connectMongo,
  connectRedis,
  createJobCache,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureIndexes,
  ensureTopics,
  joblineCollections,
  newEvent,
  topicNames,
  type JobEvent,
  type JoblineCollections,
  type KafkaEventPublisher,
  type MongoConnection,
} from '@jobline/libs';
import { aJobRequested, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { compareProjections } from './compare-projections';
import { createBatchPersister } from './persist-batch';
import { createPersister, type Persister } from './persister';
import { replayEventLog } from './replay';
import { EXIT_DIFFERENCES, EXIT_REFUSED, EXIT_SAME, runReplayCli } from './replay-cli';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const JOBS = 300;

/** One job's history, ending in one of four ways; `n % 4 === 3` jobs are left running. */
function history(n: number): JobEvent[] {
  const jobId = randomUUID();
  const ctx = (ms: number) => ({
    jobId,
    tenantId: n % 2 ? 'acme' : 'globex',
    source: 'runner' as const,
    now: new Date(T0 + n * 1000 + ms),
  });
  const error = { code: 'HANDLER_FAILED', message: `boom ${n}`, retryable: true };
  const events: JobEvent[] = [
    aJobRequested({
      jobId,
      tenantId: ctx(0).tenantId,
      now: ctx(0).now,
      type: 'sleep',
      payload: { ms: n },
      maxAttempts: 2,
      metadata: { n: String(n) },
    }),
    newEvent('JobStarted', ctx(10), { attempt: 1, runnerId: `r${n % 3}` }),
    newEvent('JobProgressed', ctx(20), { attempt: 1, current: 1, total: 2, message: 'half way' }),
  ];
  switch (n % 4) {
    case 0:
      events.push(newEvent('JobCompleted', ctx(30), { attempt: 1, result: { n }, resultUrl: null }));
      break;
    case 1:
      events.push(
        newEvent('JobAttemptFailed', ctx(30), { attempt: 1, error, nextRunAt: new Date(T0 + 60_000).toISOString() }),
        newEvent('JobStarted', ctx(70_000), { attempt: 2, runnerId: 'r9' }),
        newEvent('JobAttemptFailed', ctx(70_010), { attempt: 2, error, nextRunAt: null }),
        newEvent('JobDeadLettered', ctx(70_020), { attempt: 2, error }),
      );
      break;
    case 2:
      events.push(
        newEvent('JobCancelRequested', ctx(30), { reason: 'test' }),
        newEvent('JobCancelled', ctx(40), { reason: 'test' }),
      );
      break;
    default:
      break;
  }
  return events;
}

/** Interleaves the histories as a busy log would hold them: each job's events in order, among everybody else's. */
function interleave(histories: JobEvent[][]): JobEvent[] {
  const longest = Math.max(...histories.map((h) => h.length));
  return Array.from({ length: longest }, (_, i) => histories.flatMap((h) => (i < h.length ? [h[i]!] : []))).flat();
}

function captureIo() {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    io: {
      stdout: { write: (text: string) => stdout.push(text) },
      stderr: { write: (text: string) => stderr.push(text), isTTY: false },
    },
    stdoutLines: () => stdout.join('').trimEnd().split('\n'),
    stderrText: () => stderr.join(''),
  };
}

describe('replay of the event log into a fresh database', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  // No name here begins with another: the local stack's server drops those along with a database (see replay.ts).
  const replayDb = `replay_${ns.id}_a`;
  const otherDbs = [`replay_${ns.id}_b`, `replay_${ns.id}_c`];
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let rawProducer: Producer;
  let mongo: MongoConnection;
  let redis: Redis;
  let live: JoblineCollections;
  let persister: Persister | undefined;
  let histories: JobEvent[][];
  let published = 0;
  const cliEnv = { ...ns.env, LOG_LEVEL: 'error', REDIS_KEY_PREFIX: `${ns.redisPrefix}replay:` };

  async function startPersister() {
    persister = createPersister({
      kafka,
      admin,
      groupId: ns.persisterGroup,
      topic: topics.events,
      collections: live,
      persistBatch: createBatchPersister({
        collections: live,
        cache: createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
        topic: topics.events,
        logger,
        quarantine: async () => undefined,
      }),
      logger,
    });
    await persister.start();
  }

  async function publish(events: JobEvent[]) {
    await publisher.publish(events);
    published += events.length;
  }

  /** The live persister's checkpoint has reached the end of every partition. */
  const waitForLiveProjection = () =>
    waitFor(
      async () => {
        const offsets = await admin.fetchTopicOffsets(topics.events);
        const checkpoints = await live.checkpoints.find({ topic: topics.events }).toArray();
        return offsets.every(
          (o) =>
            o.high === o.low || checkpoints.find((c) => c.partition === o.partition)?.nextOffset === Number(o.high),
        );
      },
      { timeoutMs: 45_000, description: 'the live projection to reach the end of the log' },
    );

  const snapshot = (c: JoblineCollections) => c.jobs.find({}).sort({ _id: 1 }).toArray();

  beforeAll(async () => {
    const infra = testInfra();
    kafka = createKafka({ brokers: infra.brokers, clientId: 'test-replay', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
    rawProducer = kafka.producer();
    await Promise.all([publisher.connect(), rawProducer.connect()]);
    mongo = await connectMongo(infra.mongoUri, ns.database);
    redis = connectRedis(infra.redisUrl);
    await redis.connect();
    live = joblineCollections(mongo.db);
    await ensureIndexes(live);
    await startPersister();

    histories = Array.from({ length: JOBS }, (_, n) => history(n));
    const log = interleave(histories);
    for (let i = 0; i < log.length; i += 200) await publish(log.slice(i, i + 200));
    // A message no decoder accepts: the replay counts it and moves on, as the persister does.
    await rawProducer.send({ topic: topics.events, messages: [{ key: 'junk', value: '{not json' }] });
    await waitForLiveProjection();
  });

  afterAll(async () => {
    await persister?.stop();
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    for (const db of [ns.database, replayDb, ...otherDbs]) await mongo.client.db(db).dropDatabase();
    const keys = await redis.keys(`${ns.redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([
      publisher.disconnect(),
      rawProducer.disconnect(),
      admin.disconnect(),
      mongo.client.close(),
      redis.quit(),
    ]);
  });

  it('rebuilds the same jobs documents as the live persister, and says so with exit code 0', async () => {
    const { io, stdoutLines, stderrText } = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', replayDb], cliEnv, io);

    expect(stderrText()).toContain('1 undecodable messages skipped');
    expect(code).toBe(EXIT_SAME);
    expect(stdoutLines()).toHaveLength(1);
    const summary = JSON.parse(stdoutLines()[0]!);
    expect(summary).toMatchObject({
      events: published,
      jobs: JOBS,
      differences: 0,
      compared: JOBS,
      changedAfterReplay: 0,
      liveBehind: 0,
      undecodable: 1,
    });
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    const rebuilt = joblineCollections(mongo.client.db(replayDb));
    expect(await snapshot(rebuilt)).toEqual(await snapshot(live));
    // Nothing reached Redis or the quarantine topic.
    expect(await redis.keys(`${ns.redisPrefix}replay:*`)).toEqual([]);
    const quarantine = await admin.fetchTopicOffsets(topics.quarantine);
    expect(quarantine.every((o) => o.high === '0')).toBe(true);
  });

  it('counts jobs the live projection has not reached, or changed past the high-water marks, apart from differences', async () => {
    const running = histories.filter((h) => h.length === 3).map((h) => h[0]!);
    const finish = ({ jobId, tenantId }: JobEvent) =>
      newEvent(
        'JobCompleted',
        { jobId, tenantId, source: 'runner', now: new Date(T0 + 3_600_000) },
        {
          attempt: 1,
          result: 'late',
          resultUrl: null,
        },
      );
    const fresh = history(JOBS);
    await persister!.stop();
    await publish([finish(running[0]!), fresh[0]!]);

    const target = mongo.client.db(otherDbs[0]!);
    const replay = await replayEventLog({ kafka, admin, topic: topics.events, target, logger });
    const rebuilt = joblineCollections(target);
    const compare = () =>
      compareProjections({ live, rebuilt, topic: topics.events, highWaterMarks: replay.highWaterMarks });

    expect(replay.jobs).toBe(JOBS + 1);
    expect(await compare()).toMatchObject({ differences: [], liveBehind: 2, changedAfterReplay: 0 });

    await startPersister();
    await waitForLiveProjection();
    expect(await compare()).toMatchObject({ differences: [], liveBehind: 0, compared: JOBS + 1 });

    await publish([finish(running[1]!), ...history(JOBS + 1)]);
    await waitForLiveProjection();
    expect(await compare()).toMatchObject({ differences: [], changedAfterReplay: 2, compared: JOBS });
  });

  it('reports a live document that differs from the log, one the log lacks, and one the live side lacks', async () => {
    const [completed, , cancelled] = histories.map((h) => h[0]!.jobId);
    const bogus = randomUUID();
    await live.jobs.updateOne({ _id: completed! }, { $set: { status: 'failed', attempts: 7 } });
    await live.jobs.deleteOne({ _id: cancelled! });
    const template = (await live.jobs.findOne({ _id: completed! }))!;
    await live.jobs.insertOne({ ...template, _id: bogus, id: bogus, position: { partition: 0, offset: 0 } });
    const { io, stdoutLines } = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', replayDb, '--force'], cliEnv, io);

    expect(code).toBe(EXIT_DIFFERENCES);
    const lines = stdoutLines();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ differences: 3, jobs: JOBS + 2 });
    const differences = lines.slice(0, -1).sort();
    expect(differences).toHaveLength(3);
    expect(differences[0]).toBe(
      `differs ${completed}: attempts live 7 rebuilt 1; status live "failed" rebuilt "completed"`,
    );
    expect(differences[1]).toMatch(
      new RegExp(`^extra   ${cancelled}: rebuilt at partition \\d+ offset \\d+, not in the live projection$`),
    );
    expect(differences[2]).toBe(`missing ${bogus}: live at partition 0 offset 0, not rebuilt`);
  });

  it('refuses a target database that holds jobs, and the live database, with exit code 2', async () => {
    const target = mongo.client.db(otherDbs[1]!);
    await target.collection('jobs').insertOne({ _id: 'someone-elses' as never, kept: true });
    const refused = captureIo();
    const live = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', otherDbs[1]!], cliEnv, refused.io);
    const liveCode = await runReplayCli(['--from-beginning', '--into', ns.database], cliEnv, live.io);

    expect(code).toBe(EXIT_REFUSED);
    expect(refused.stderrText()).toMatch(/is not fresh \(1 jobs, 0 events\).*--force/);
    expect(refused.stdoutLines()).toEqual(['']);
    expect(await target.collection('jobs').find({}).toArray()).toEqual([{ _id: 'someone-elses', kept: true }]);
    expect(liveCode).toBe(EXIT_REFUSED);
    expect(live.stderrText()).toContain('is the live database');
    await expect(replayEventLog({ kafka, admin, topic: topics.events, target, logger })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
