import {
  allTopics,
  connectMongo,
  connectRedis,
  createJobCache,
  createKafka,
  createKafkaEventPublisher,
  createKafkaPausePublisher,
  createKafkaSchedulePublisher,
  createLogger,
  decideSchedule,
  definitionOf,
  ensureIndexes,
  ensurePauseIndexes,
  ensureScheduleIndexes,
  ensureTopics,
  evolveSchedule,
  joblineCollections,
  newEvent,
  pauseCollections,
  pauseScopeId,
  scheduleCollections,
  topicNames,
  type JobEvent,
  type JoblineCollections,
  type KafkaEventPublisher,
  type KafkaPausePublisher,
  type KafkaSchedulePublisher,
  type MongoConnection,
  type PauseCollections,
  type PauseEvent,
  type ScheduleCollections,
  type ScheduleCommand,
  type ScheduleEvent,
} from '@jobline/libs';
import {
  aJobRequested,
  aScheduleCreated,
  aWorkPaused,
  aWorkResumed,
  testInfra,
  testNamespace,
  waitFor,
} from '@jobline/libs/testing';
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { compareProjection } from './compare-projections';
import { createBatchPersister } from './persist-batch';
import { createPausePersister } from './persist-pauses';
import { createSchedulePersister } from './persist-schedules';
import { createPersister, type Persister } from './persister';
import { projectionCollections, replayEventLog } from './replay';
import { EXIT_DIFFERENCES, EXIT_REFUSED, EXIT_SAME, runReplayCli } from './replay-cli';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const JOBS = 300;
const SCHEDULES = 12;
const PAUSE_TENANTS = ['acme', 'globex', 'initech', 'umbrella'];

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

/** A schedule created; for `n % 3 === 1` then paused with another trigger, for `n % 3 === 2` paused and deleted. */
function scheduleHistory(n: number): ScheduleEvent[] {
  const created = aScheduleCreated({ tenantId: n % 2 ? 'acme' : 'globex', now: new Date(T0 + n * 1000) });
  const ctx = (ms: number) => ({
    scheduleId: created.scheduleId,
    tenantId: created.tenantId,
    source: 'producer' as const,
    now: new Date(T0 + n * 1000 + ms),
  });
  const events: ScheduleEvent[] = [created];
  let state = evolveSchedule(null, created);
  const apply = (command: ScheduleCommand, ms: number) => {
    for (const event of decideSchedule(command, state, ctx(ms))) {
      events.push(event);
      state = evolveSchedule(state, event);
    }
  };
  if (n % 3 === 1) {
    const trigger = { kind: 'interval' as const, everyMs: 60_000 };
    apply({ type: 'ChangeSchedule', definition: { ...definitionOf(state!), trigger }, paused: true }, 10);
  }
  if (n % 3 === 2) {
    apply({ type: 'ChangeSchedule', definition: definitionOf(state!), paused: true }, 10);
    apply({ type: 'DeleteSchedule' }, 20);
  }
  return events;
}

/** Each tenant's `http` paused then paused again with another reason, the tenant paused as a whole, then resumed. */
const pauseHistory = (tenantId: string, n: number): PauseEvent[] => [
  aWorkPaused({ tenantId, jobType: 'http', reason: 'provider down', now: new Date(T0 + n * 1000) }),
  aWorkPaused({ tenantId, jobType: 'http', reason: 'still down', by: 'env:lead', now: new Date(T0 + n * 1000 + 5) }),
  aWorkPaused({ tenantId, now: new Date(T0 + n * 1000 + 7) }),
  ...(n % 2 ? [aWorkResumed({ tenantId, now: new Date(T0 + n * 1000 + 9) })] : []),
];

/** Interleaves the histories as a busy log would hold them: each job's events in order, among everybody else's. */
function interleave<E>(histories: E[][]): E[] {
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
  const otherDbs = [`replay_${ns.id}_b`, `replay_${ns.id}_c`, `replay_${ns.id}_d`];
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let schedulePublisher: KafkaSchedulePublisher;
  let pausePublisher: KafkaPausePublisher;
  let rawProducer: Producer;
  let mongo: MongoConnection;
  let redis: Redis;
  let live: JoblineCollections;
  let liveSchedules: ScheduleCollections;
  let livePauses: PauseCollections;
  let persister: Persister | undefined;
  const sidePersisters: Persister[] = [];
  let histories: JobEvent[][];
  let schedules: ScheduleEvent[][];
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

  /** The schedules' and the pauses' persisters, each in a group of its own, as the consumer runs them. */
  async function startSidePersisters() {
    const quarantine = async () => undefined;
    sidePersisters.push(
      createPersister({
        kafka,
        admin,
        groupId: `${ns.persisterGroup}-schedules`,
        topic: topics.schedules,
        collections: live,
        persistBatch: createSchedulePersister({
          collections: liveSchedules,
          topic: topics.schedules,
          logger,
          quarantine,
        }),
        logger,
      }),
      createPersister({
        kafka,
        admin,
        groupId: `${ns.persisterGroup}-pauses`,
        topic: topics.pauses,
        collections: live,
        persistBatch: createPausePersister({ collections: livePauses, topic: topics.pauses, logger, quarantine }),
        logger,
      }),
    );
    await Promise.all(sidePersisters.map((p) => p.start()));
  }

  async function publish(events: JobEvent[]) {
    await publisher.publish(events);
    published += events.length;
  }

  /** Every live persister's checkpoint has reached the end of every partition of its topic. */
  const waitForLiveProjection = () =>
    waitFor(
      async () => {
        for (const topic of [topics.events, topics.schedules, topics.pauses]) {
          const offsets = await admin.fetchTopicOffsets(topic);
          const checkpoints = await live.checkpoints.find({ topic }).toArray();
          const reached = offsets.every(
            (o) =>
              o.high === o.low || checkpoints.find((c) => c.partition === o.partition)?.nextOffset === Number(o.high),
          );
          if (!reached) return false;
        }
        return true;
      },
      { timeoutMs: 45_000, description: 'the live projections to reach the end of their logs' },
    );

  /** Each projection's documents, by id. */
  const snapshot = async (db: Db) => ({
    jobs: await joblineCollections(db).jobs.find({}).sort({ _id: 1 }).toArray(),
    schedules: await scheduleCollections(db).schedules.find({}).sort({ _id: 1 }).toArray(),
    pauses: await pauseCollections(db).pauses.find({}).sort({ _id: 1 }).toArray(),
  });

  beforeAll(async () => {
    const infra = testInfra();
    kafka = createKafka({ brokers: infra.brokers, clientId: 'test-replay', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
    schedulePublisher = createKafkaSchedulePublisher(kafka, { topic: topics.schedules, timeoutMs: 10_000 });
    pausePublisher = createKafkaPausePublisher(kafka, { topic: topics.pauses, timeoutMs: 10_000 });
    rawProducer = kafka.producer();
    await Promise.all([
      publisher.connect(),
      schedulePublisher.connect(),
      pausePublisher.connect(),
      rawProducer.connect(),
    ]);
    mongo = await connectMongo(infra.mongoUri, ns.database);
    redis = connectRedis(infra.redisUrl);
    await redis.connect();
    live = joblineCollections(mongo.db);
    liveSchedules = scheduleCollections(mongo.db);
    livePauses = pauseCollections(mongo.db);
    await Promise.all([ensureIndexes(live), ensureScheduleIndexes(liveSchedules), ensurePauseIndexes(livePauses)]);
    await Promise.all([startPersister(), startSidePersisters()]);

    histories = Array.from({ length: JOBS }, (_, n) => history(n));
    const log = interleave(histories);
    for (let i = 0; i < log.length; i += 200) await publish(log.slice(i, i + 200));
    schedules = Array.from({ length: SCHEDULES }, (_, n) => scheduleHistory(n));
    await schedulePublisher.publish(interleave(schedules));
    for (const event of interleave(PAUSE_TENANTS.map(pauseHistory))) await pausePublisher.publish(event);
    // A message no decoder accepts, on the job and the schedule topics: the replay counts it and moves on, as the
    // persisters do.
    await rawProducer.send({ topic: topics.events, messages: [{ key: 'junk', value: '{not json' }] });
    await rawProducer.send({
      topic: topics.schedules,
      messages: [{ key: 'junk', value: '{"type":"ScheduleCreated"}' }],
    });
    await waitForLiveProjection();
  });

  afterAll(async () => {
    await Promise.all([persister?.stop(), ...sidePersisters.map((p) => p.stop())]);
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    for (const db of [ns.database, replayDb, ...otherDbs]) await mongo.client.db(db).dropDatabase();
    const keys = await redis.keys(`${ns.redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([
      publisher.disconnect(),
      schedulePublisher.disconnect(),
      pausePublisher.disconnect(),
      rawProducer.disconnect(),
      admin.disconnect(),
      mongo.client.close(),
      redis.quit(),
    ]);
  });

  it('rebuilds the same jobs, schedules and pauses documents as the live persisters, and says so with exit code 0', async () => {
    const scheduleEvents = schedules.flat().length;
    const pauseEvents = PAUSE_TENANTS.map(pauseHistory).flat().length;
    const pauseScopes = PAUSE_TENANTS.length * 2;
    const { io, stdoutLines, stderrText } = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', replayDb], cliEnv, io);

    expect(stderrText()).toContain(`1 undecodable messages skipped (${topics.events})`);
    expect(stderrText()).toContain(`1 undecodable messages skipped (${topics.schedules})`);
    // Progress, a line per projection (stderr is not a terminal here), ending on each topic's whole count.
    const whole = (n: number) => `${n.toLocaleString('en-US')}/${n.toLocaleString('en-US')} events`;
    expect(stderrText()).toContain(`replay jobs: ${whole(published + 1)}`);
    expect(stderrText()).toContain(`replay schedules: ${whole(scheduleEvents + 1)}`);
    expect(stderrText()).toContain(`replay pauses: ${whole(pauseEvents)}`);
    expect(code).toBe(EXIT_SAME);
    expect(stdoutLines()).toHaveLength(1);
    const summary = JSON.parse(stdoutLines()[0]!);
    expect(summary).toMatchObject({
      events: published + scheduleEvents + pauseEvents,
      jobs: JOBS,
      schedules: SCHEDULES,
      pauses: pauseScopes,
      differences: 0,
      compared: JOBS + SCHEDULES + pauseScopes,
      changedAfterReplay: 0,
      liveBehind: 0,
      undecodable: 2,
      projections: {
        jobs: { topic: topics.events, events: published, documents: JOBS, compared: JOBS, undecodable: 1 },
        schedules: { topic: topics.schedules, events: scheduleEvents, documents: SCHEDULES, compared: SCHEDULES },
        pauses: { topic: topics.pauses, events: pauseEvents, documents: pauseScopes, compared: pauseScopes },
      },
    });
    expect(summary.eventsPerSecond).toBeGreaterThan(0);
    const rebuilt = await snapshot(mongo.client.db(replayDb));
    expect(rebuilt).toEqual(await snapshot(mongo.db));
    expect(rebuilt.schedules.map((s) => s.status).sort()).toEqual([
      ...Array(4).fill('active'),
      ...Array(4).fill('deleted'),
      ...Array(4).fill('paused'),
    ]);
    expect(rebuilt.pauses.filter((p) => p.paused)).toHaveLength(6);
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
    const replay = await replayEventLog({ kafka, admin, topics, target, logger });
    const compare = () =>
      compareProjection({
        live: projectionCollections(mongo.db).jobs,
        rebuilt: projectionCollections(target).jobs,
        liveCheckpoints: live.checkpoints,
        topic: topics.events,
        highWaterMarks: replay.projections.jobs.highWaterMarks,
      });

    expect(replay.jobs).toBe(JOBS + 1);
    expect(await compare()).toMatchObject({ differences: [], liveBehind: 2, changedAfterReplay: 0 });

    await startPersister();
    await waitForLiveProjection();
    expect(await compare()).toMatchObject({ differences: [], liveBehind: 0, compared: JOBS + 1 });

    await publish([finish(running[1]!), ...history(JOBS + 1)]);
    await waitForLiveProjection();
    expect(await compare()).toMatchObject({ differences: [], changedAfterReplay: 2, compared: JOBS });
  });

  it('reports a live document that differs from the log, one the log lacks, and one the live side lacks, in each projection', async () => {
    const [completed, , cancelled] = histories.map((h) => h[0]!.jobId);
    const bogus = randomUUID();
    await live.jobs.updateOne({ _id: completed! }, { $set: { status: 'failed', attempts: 7 } });
    await live.jobs.deleteOne({ _id: cancelled! });
    const template = (await live.jobs.findOne({ _id: completed! }))!;
    await live.jobs.insertOne({ ...template, _id: bogus, id: bogus, position: { partition: 0, offset: 0 } });
    const lostSchedule = schedules[0]![0]!.scheduleId;
    await liveSchedules.schedules.deleteOne({ _id: lostSchedule });
    const resumedScope = pauseScopeId('acme', 'http');
    await livePauses.pauses.updateOne({ _id: resumedScope }, { $set: { paused: false } });
    const { io, stdoutLines } = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', replayDb, '--force'], cliEnv, io);

    expect(code).toBe(EXIT_DIFFERENCES);
    const lines = stdoutLines();
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({
      differences: 5,
      jobs: JOBS + 2,
      schedules: SCHEDULES,
      projections: { jobs: { differences: 3 }, schedules: { differences: 1 }, pauses: { differences: 1 } },
    });
    const differences = lines.slice(0, -1).sort();
    expect(differences).toHaveLength(5);
    expect(differences[0]).toBe(
      `differs ${completed}: attempts live 7 rebuilt 1; status live "failed" rebuilt "completed"`,
    );
    expect(differences[1]).toBe(`differs pause scope ${resumedScope}: paused live false rebuilt true`);
    expect(differences[2]).toMatch(
      new RegExp(`^extra   ${cancelled}: rebuilt at partition \\d+ offset \\d+, not in the live projection$`),
    );
    expect(differences[3]).toMatch(
      new RegExp(
        `^extra   schedule ${lostSchedule}: rebuilt at partition \\d+ offset \\d+, not in the live projection$`,
      ),
    );
    expect(differences[4]).toBe(`missing ${bogus}: live at partition 0 offset 0, not rebuilt`);
  });

  it('refuses a target database that holds jobs, or pauses only, and the live database, with exit code 2', async () => {
    const target = mongo.client.db(otherDbs[1]!);
    await target.collection('jobs').insertOne({ _id: 'someone-elses' as never, kept: true });
    const pausesOnly = mongo.client.db(otherDbs[2]!);
    await pausesOnly.collection('pauses').insertOne({ _id: 'someone-elses' as never, kept: true });
    const refused = captureIo();
    const refusedPauses = captureIo();
    const live = captureIo();

    const code = await runReplayCli(['--from-beginning', '--into', otherDbs[1]!], cliEnv, refused.io);
    const pausesCode = await runReplayCli(['--from-beginning', '--into', otherDbs[2]!], cliEnv, refusedPauses.io);
    const liveCode = await runReplayCli(['--from-beginning', '--into', ns.database], cliEnv, live.io);

    expect(code).toBe(EXIT_REFUSED);
    expect(refused.stderrText()).toMatch(
      /is not fresh \(1 jobs, 0 job events, 0 schedules, 0 schedule events, 0 pauses\).*--force/,
    );
    expect(refused.stdoutLines()).toEqual(['']);
    expect(await target.collection('jobs').find({}).toArray()).toEqual([{ _id: 'someone-elses', kept: true }]);
    expect(pausesCode).toBe(EXIT_REFUSED);
    expect(refusedPauses.stderrText()).toMatch(/is not fresh \(0 jobs, .*, 1 pauses\)/);
    expect(await pausesOnly.collection('pauses').countDocuments()).toBe(1);
    expect(liveCode).toBe(EXIT_REFUSED);
    expect(live.stderrText()).toContain('is the live database');
    await expect(replayEventLog({ kafka, admin, topics, target, logger })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});
