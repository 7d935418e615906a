import {
  connectMongo,
  connectRedis,
  createJobCache,
  createJobChangeHub,
  createLogger,
  encodeEvent,
  ensureIndexes,
  foldEvents,
  joblineCollections,
  newEvent,
  publishJobChanges,
  type JobChange,
  type JobEventOf,
  type JobEvent,
  type JoblineCollections,
  type MongoConnection,
} from '@jobline/libs';
import { aJobRequested, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createBatchPersister, type LogMessage, type PoisonMessage } from './persist-batch';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

function jobHistory(tenantId = 'acme'): JobEvent[] {
  const ctx = (ms: number) => ({ jobId, tenantId, source: 'runner' as const, now: at(ms) });
  const jobId = randomUUID();
  return [
    aJobRequested({ jobId, tenantId, now: at(0), type: 'sleep', payload: { ms: 10 } }),
    newEvent('JobStarted', ctx(10), { attempt: 1, runnerId: 'r1' }),
    newEvent('JobCompleted', ctx(30), { attempt: 1, result: { sleptMs: 10 }, resultUrl: null }),
  ];
}

/** Lays events out as a partition's log would: consecutive offsets from `first`. */
function asLog(events: JobEvent[], first = 0): LogMessage[] {
  return events.map((event, i) => ({ offset: first + i, value: Buffer.from(encodeEvent(event).value as string) }));
}

describe('persistBatch against MongoDB and Redis', () => {
  let mongo: MongoConnection;
  let redis: Redis;
  let collections: JoblineCollections;
  let quarantined: PoisonMessage[];
  let persist: ReturnType<typeof createBatchPersister>;
  const ns = testNamespace();

  beforeAll(async () => {
    const infra = testInfra();
    mongo = await connectMongo(infra.mongoUri, ns.database);
    redis = connectRedis(infra.redisUrl);
    await redis.connect();
    collections = joblineCollections(mongo.db);
    await ensureIndexes(collections);
  });

  beforeEach(() => {
    quarantined = [];
    persist = createBatchPersister({
      collections,
      cache: createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
      topic: `${ns.topicPrefix}job-events`,
      logger,
      quarantine: async (messages) => {
        quarantined.push(...messages);
      },
    });
  });

  afterAll(async () => {
    await mongo.db.dropDatabase();
    const keys = await redis.keys(`${ns.redisPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await Promise.all([mongo.client.close(), redis.quit()]);
  });

  it('folds a job history into the projection, the event log, the checkpoint and the cache', async () => {
    const events = jobHistory();
    const jobId = events[0]!.jobId;

    const result = await persist([{ partition: 0, messages: asLog(events) }]);

    expect(result).toEqual({ events: 3, duplicates: 0, poison: 0, jobsChanged: 1 });
    const doc = await collections.jobs.findOne({ _id: jobId });
    expect(doc).toMatchObject({
      status: 'completed',
      attempts: 1,
      result: { sleptMs: 10 },
      position: { partition: 0, offset: 2 },
    });
    expect(await collections.jobEvents.countDocuments({ jobId })).toBe(3);
    const checkpoint = await collections.checkpoints.findOne({ _id: `${ns.topicPrefix}job-events:0` });
    expect(checkpoint?.nextOffset).toBe(3);
    const cached = await createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }).get('acme', jobId);
    expect(cached?.status).toBe('completed');
  });

  it('folds batches of several partitions in one call, each with its own checkpoint', async () => {
    const first = jobHistory();
    const second = jobHistory();

    const result = await persist([
      { partition: 7, messages: asLog(first, 40) },
      { partition: 8, messages: asLog(second.slice(0, 2), 70) },
    ]);

    expect(result).toEqual({ events: 5, duplicates: 0, poison: 0, jobsChanged: 2 });
    expect(await collections.jobs.findOne({ _id: first[0]!.jobId })).toMatchObject({
      status: 'completed',
      position: { partition: 7, offset: 42 },
    });
    expect(await collections.jobs.findOne({ _id: second[0]!.jobId })).toMatchObject({
      status: 'processing',
      position: { partition: 8, offset: 71 },
    });
    const checkpoints = await collections.checkpoints
      .find({ _id: { $in: [7, 8].map((p) => `${ns.topicPrefix}job-events:${p}`) } })
      .toArray();
    expect(checkpoints.map((c) => [c.partition, c.nextOffset]).sort()).toEqual([
      [7, 43],
      [8, 72],
    ]);
  });

  it('is idempotent: the same events delivered twice leave one event row each and the same projection', async () => {
    const events = jobHistory();
    const jobId = events[0]!.jobId;
    const log = asLog(events, 100);

    await persist([{ partition: 1, messages: log }]);
    const once = await collections.jobs.findOne({ _id: jobId });
    const second = await persist([{ partition: 1, messages: log }]);
    const overlapping = await persist([{ partition: 1, messages: [log[1]!, log[2]!] }]);

    expect(second.duplicates).toBe(3);
    expect(overlapping.duplicates).toBe(2);
    expect(await collections.jobEvents.countDocuments({ jobId })).toBe(3);
    expect(await collections.jobs.findOne({ _id: jobId })).toEqual(once);
    expect(once).toMatchObject({ ...foldEvents(events), position: { partition: 1, offset: 102 } });
  });

  it('keeps a job as it is when its JobRequested is published again later in the log', async () => {
    // An idempotent request retried after its producer failed publishes the job's JobRequested once more.
    const events = jobHistory();
    const jobId = events[0]!.jobId;
    await persist([{ partition: 3, messages: asLog(events, 10) }]);
    const finished = await collections.jobs.findOne({ _id: jobId });

    const again = await persist([{ partition: 3, messages: asLog([events[0]!], 20) }]);

    expect(again.duplicates).toBe(1);
    expect(await collections.jobEvents.countDocuments({ jobId })).toBe(3);
    const { position, ...rest } = (await collections.jobs.findOne({ _id: jobId }))!;
    const { position: _before, ...finishedRest } = finished!;
    expect(rest).toEqual(finishedRest);
    expect(position).toEqual({ partition: 3, offset: 20 });
    expect(rest).toMatchObject({ status: 'completed' });
  });

  it('skips events at or before the position the projection holds, even when they are new event ids', async () => {
    const events = jobHistory();
    const jobId = events[0]!.jobId;
    await persist([{ partition: 2, messages: asLog(events, 0) }]);
    const stale = { ...events[1]!, eventId: randomUUID() };

    await persist([{ partition: 2, messages: [{ offset: 1, value: Buffer.from(JSON.stringify(stale)) }] }]);

    expect(await collections.jobs.findOne({ _id: jobId })).toMatchObject({
      status: 'completed',
      position: { offset: 2 },
    });
  });

  it('quarantines undecodable messages and keeps folding the rest of the batch', async () => {
    const events = jobHistory();
    const log = asLog(events, 0);
    const batch = [
      log[0]!,
      { offset: 1, value: Buffer.from('{not json') },
      { ...log[1]!, offset: 2 },
      { offset: 3, value: Buffer.from('{"type":"JobStarted"}') },
    ];

    const result = await persist([{ partition: 3, messages: batch }]);

    expect(result.poison).toBe(2);
    expect(quarantined.map((q) => q.offset)).toEqual([1, 3]);
    expect(await collections.jobs.findOne({ _id: events[0]!.jobId })).toMatchObject({ status: 'processing' });
    expect((await collections.checkpoints.findOne({ _id: `${ns.topicPrefix}job-events:3` }))?.nextOffset).toBe(4);
  });

  it('never lets the cache go back to an older view of a job', async () => {
    const events = jobHistory('tenant-b');
    const jobId = events[0]!.jobId;
    const cache = createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 });
    await persist([{ partition: 4, messages: asLog(events, 0) }]);

    await cache.putIfAbsent({
      tenantId: 'tenant-b',
      view: { ...(await cache.get('tenant-b', jobId))!, status: 'pending' },
    });

    expect((await cache.get('tenant-b', jobId))?.status).toBe('completed');
    expect(await cache.get('someone-else', jobId)).toBeNull();
  });

  it('announces the view after each applied event on the tenant channel, in log order, and nothing for duplicates', async () => {
    const subscriber = connectRedis(testInfra().redisUrl);
    await subscriber.connect();
    const hub = createJobChangeHub(subscriber, ns.redisPrefix, logger);
    const received: JobChange[] = [];
    await hub.watch('tenant-c', (change) => received.push(change));
    const announcing = createBatchPersister({
      collections,
      cache: createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
      topic: `${ns.topicPrefix}job-events`,
      logger,
      quarantine: async () => undefined,
      publishChanges: (changes) => publishJobChanges(redis, ns.redisPrefix, changes),
    });
    try {
      const first = jobHistory('tenant-c');
      const log = asLog(first, 10);
      await announcing([{ partition: 5, messages: log }]);
      await announcing([{ partition: 5, messages: log }]);
      await announcing([{ partition: 5, messages: asLog(jobHistory('someone-else'), 13) }]);
      const second = jobHistory('tenant-c');
      await announcing([{ partition: 5, messages: asLog(second, 16) }]);
      const of = (jobId: string) => received.filter((c) => c.view.id === jobId);
      await waitFor(() => of(second[0]!.jobId).length === 3, { description: 'the second job’s changes' });

      // Redis delivers one connection's messages in order, so the first job's are all in by now.
      expect(of(first[0]!.jobId).map((c) => [c.partition, c.offset, c.view.status])).toEqual([
        [5, 10, 'pending'],
        [5, 11, 'processing'],
        [5, 12, 'completed'],
      ]);
      expect(received.every((c) => c.tenantId === 'tenant-c')).toBe(true);
      expect(received).toHaveLength(6);
    } finally {
      await hub.close();
    }
  });

  it('adds one callback delivery per terminal status of a job with a callbackUrl, before the projection shows it', async () => {
    const outbox = createBatchPersister({
      collections,
      cache: createJobCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 }),
      topic: `${ns.topicPrefix}job-events`,
      logger,
      quarantine: async () => undefined,
      scheduleCallbacks: true,
    });
    const [requested, started, completed] = jobHistory('tenant-d');
    const withCallback = {
      ...requested!,
      data: { ...(requested as JobEventOf<'JobRequested'>).data, callbackUrl: 'https://hooks.example.com/done' },
    } as JobEvent;
    const jobId = withCallback.jobId;
    const log = asLog([withCallback, started!, completed!], 20);
    await outbox([{ partition: 6, messages: log }]);
    await outbox([{ partition: 6, messages: log }]);
    const silent = jobHistory('tenant-d');
    await outbox([{ partition: 6, messages: asLog(silent, 23) }]);

    const deliveries = await collections.callbackDeliveries.find({ tenantId: 'tenant-d' }).toArray();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({
      _id: completed!.eventId,
      jobId,
      url: 'https://hooks.example.com/done',
      status: 'pending',
      attempts: 0,
      view: { id: jobId, status: 'completed', result: { sleptMs: 10 } },
    });
  });
});
