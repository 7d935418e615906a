import {
  createKafkaSchedulePublisher,
  createLogger,
  createScheduleCache,
  decideSchedule,
  definitionOf,
  encodeScheduleEvent,
  ensureScheduleIndexes,
  evolveSchedule,
  joblineCollections,
  scheduleCollections,
  topicNames,
  type KafkaSchedulePublisher,
  type MongoConnection,
  type ScheduleCollections,
  type ScheduleEvent,
} from '@jobline/libs';
import { aScheduleCreated, testNamespace, waitFor } from '@jobline/libs/testing';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { LogMessage, PoisonMessage } from './persist-batch';
import { createSchedulePersister } from './persist-schedules';
import { createPersister, type Persister } from './persister';
import { connectPersisterStack, type PersisterStack } from './testing/persister-stack';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** A schedule created, paused and then given another trigger. */
function scheduleHistory(): ScheduleEvent[] {
  const created = aScheduleCreated({ now: T0 });
  const ctx = (s: number) => ({
    scheduleId: created.scheduleId,
    tenantId: 'acme',
    source: 'producer' as const,
    now: at(s),
  });
  const state = evolveSchedule(null, created)!;
  const paused = decideSchedule(
    { type: 'ChangeSchedule', definition: definitionOf(state), paused: true },
    state,
    ctx(5),
  );
  const updated = decideSchedule(
    {
      type: 'ChangeSchedule',
      definition: { ...definitionOf(state), trigger: { kind: 'interval', everyMs: 2000 } },
      paused: true,
    },
    evolveSchedule(state, paused[0]!),
    ctx(9),
  );
  return [created, ...paused, ...updated];
}

const asLog = (events: ScheduleEvent[], first = 0): LogMessage[] =>
  events.map((event, i) => ({ offset: first + i, value: Buffer.from(encodeScheduleEvent(event).value as string) }));

describe('schedule persister against Kafka, MongoDB and Redis', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaSchedulePublisher;
  let mongo: MongoConnection;
  let redis: Redis;
  let collections: ScheduleCollections;
  let persister: Persister | undefined;
  let stack: PersisterStack<KafkaSchedulePublisher>;
  let quarantined: PoisonMessage[];

  beforeAll(async () => {
    stack = await connectPersisterStack(ns, {
      clientId: 'test-schedule-persister',
      logger,
      publisher: (client) => createKafkaSchedulePublisher(client, { topic: topics.schedules, timeoutMs: 5000 }),
    });
    ({ kafka, admin, publisher, mongo, redis } = stack);
    collections = scheduleCollections(mongo.db);
    await ensureScheduleIndexes(collections);
  });

  afterAll(async () => {
    await persister?.stop();
    await stack.close();
  });

  const cache = () => createScheduleCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 });
  const persistBatch = () => {
    quarantined = [];
    return createSchedulePersister({
      collections,
      cache: cache(),
      topic: topics.schedules,
      logger,
      quarantine: async (messages) => {
        quarantined.push(...messages);
      },
    });
  };

  it('folds a history into the projection, the event collection, the checkpoint and the cache; again, changes nothing', async () => {
    const events = scheduleHistory();
    const id = events[0]!.scheduleId;
    const persist = persistBatch();

    expect(await persist([{ partition: 1, messages: asLog(events, 10) }])).toMatchObject({ events: 3, duplicates: 0 });
    const doc = await collections.schedules.findOne({ _id: id });
    expect(doc).toMatchObject({
      status: 'paused',
      revision: 3,
      trigger: { kind: 'interval', everyMs: 2000 },
      firesFrom: at(9).toISOString(),
      position: { partition: 1, offset: 12 },
    });
    expect(await cache().get('acme', id)).toMatchObject({ status: 'paused', revision: 3 });
    expect(await cache().get('other-tenant', id)).toBeNull();
    expect((await collections.checkpoints.findOne({ _id: `${topics.schedules}:1` }))?.nextOffset).toBe(13);

    expect(await persist([{ partition: 1, messages: asLog(events, 10) }])).toMatchObject({ duplicates: 3 });
    expect(await collections.schedules.findOne({ _id: id })).toEqual(doc);
    expect(await collections.scheduleEvents.countDocuments({ scheduleId: id })).toBe(3);
  });

  it('leaves a schedule as it is when its ScheduleCreated comes again, later in the log (an idempotent retry)', async () => {
    const events = scheduleHistory();
    const id = events[0]!.scheduleId;
    const persist = persistBatch();
    await persist([{ partition: 0, messages: asLog(events, 20) }]);
    const before = await collections.schedules.findOne({ _id: id });

    expect(await persist([{ partition: 0, messages: asLog([events[0]!], 23) }])).toMatchObject({ duplicates: 1 });

    const { position: _position, ...after } = (await collections.schedules.findOne({ _id: id }))!;
    const { position: _before, ...unchanged } = before!;
    expect(after).toEqual(unchanged);
    expect(after).toMatchObject({ status: 'paused', revision: 3 });
    expect(await collections.scheduleEvents.countDocuments({ scheduleId: id })).toBe(3);
    expect(await cache().get('acme', id)).toMatchObject({ status: 'paused', revision: 3 });
  });

  it('quarantines what is not a schedule event and folds the rest', async () => {
    const events = scheduleHistory().slice(0, 1);
    const persist = persistBatch();
    const garbage = { offset: 0, value: Buffer.from('{"type":"ScheduleCreated"}') };

    expect(await persist([{ partition: 2, messages: [garbage, ...asLog(events, 1)] }])).toMatchObject({
      events: 1,
      poison: 1,
    });
    expect(quarantined.map((p) => p.offset)).toEqual([0]);
    expect(await collections.schedules.countDocuments({ _id: events[0]!.scheduleId })).toBe(1);
  });

  it('keeps the projection up with the topic through the persister loop', async () => {
    const events = scheduleHistory();
    // The batches above left checkpoints of offsets this topic does not have.
    await collections.checkpoints.deleteMany({});
    await publisher.publish(events);
    persister = createPersister({
      kafka,
      admin,
      groupId: `${ns.persisterGroup}-schedules`,
      topic: topics.schedules,
      collections: joblineCollections(mongo.db),
      persistBatch: persistBatch(),
      logger,
    });
    await persister.start();

    await waitFor(async () => (await collections.schedules.findOne({ _id: events[0]!.scheduleId }))?.revision === 3, {
      description: 'the schedule folded up to its third revision',
    });
  });
});
