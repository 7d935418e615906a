import {
  createKafkaPausePublisher,
  createLogger,
  createPauseCache,
  encodePauseEvent,
  ensurePauseIndexes,
  joblineCollections,
  pauseCollections,
  pauseScopeId,
  topicNames,
  type KafkaPausePublisher,
  type MongoConnection,
  type PauseCollections,
  type PauseEvent,
} from '@jobline/libs';
import { aWorkPaused, aWorkResumed, testNamespace, waitFor } from '@jobline/libs/testing';
import type { Redis } from 'ioredis';
import type { Admin, Kafka } from 'kafkajs';
import type { LogMessage, PoisonMessage } from './persist-batch';
import { createPausePersister } from './persist-pauses';
import { createPersister, type Persister } from './persister';
import { connectPersisterStack, type PersisterStack } from './testing/persister-stack';

const logger = createLogger({ service: 'test', level: 'error' });
const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

/** `http` paused, paused again with another reason, the tenant paused as a whole, then resumed. */
const pauseHistory = (tenantId: string): PauseEvent[] => [
  aWorkPaused({ tenantId, jobType: 'http', reason: 'provider down', by: 'env:ops', now: at(0) }),
  aWorkPaused({ tenantId, jobType: 'http', reason: 'provider still down', by: 'env:lead', now: at(5) }),
  aWorkPaused({ tenantId, now: at(7) }),
  aWorkResumed({ tenantId, now: at(9) }),
];

const asLog = (events: PauseEvent[], first = 0): LogMessage[] =>
  events.map((event, i) => ({ offset: first + i, value: Buffer.from(encodePauseEvent(event).value as string) }));

describe('pause persister against Kafka, MongoDB and Redis', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaPausePublisher;
  let mongo: MongoConnection;
  let redis: Redis;
  let collections: PauseCollections;
  let persister: Persister | undefined;
  let stack: PersisterStack<KafkaPausePublisher>;
  let quarantined: PoisonMessage[];

  beforeAll(async () => {
    stack = await connectPersisterStack(ns, {
      clientId: 'test-pause-persister',
      logger,
      publisher: (client) => createKafkaPausePublisher(client, { topic: topics.pauses, timeoutMs: 5000 }),
    });
    ({ kafka, admin, publisher, mongo, redis } = stack);
    collections = pauseCollections(mongo.db);
    await ensurePauseIndexes(collections);
  });

  afterAll(async () => {
    await persister?.stop();
    await stack.close();
  });

  const cache = () => createPauseCache(redis, { keyPrefix: ns.redisPrefix, ttlSeconds: 60 });
  const persistBatch = () => {
    quarantined = [];
    return createPausePersister({
      collections,
      cache: cache(),
      topic: topics.pauses,
      logger,
      quarantine: async (messages) => {
        quarantined.push(...messages);
      },
    });
  };

  it('folds a history into one document per scope, the checkpoint and the cache; again, changes nothing', async () => {
    const persist = persistBatch();

    expect(await persist([{ partition: 0, messages: asLog(pauseHistory('acme'), 10) }])).toMatchObject({
      events: 4,
      jobsChanged: 2,
    });
    const http = await collections.pauses.findOne({ _id: pauseScopeId('acme', 'http') });
    expect(http).toEqual({
      _id: pauseScopeId('acme', 'http'),
      tenantId: 'acme',
      jobType: 'http',
      paused: true,
      reason: 'provider still down',
      pausedAt: at(0).toISOString(),
      changedBy: 'env:lead',
      changedAt: at(5).toISOString(),
      position: { partition: 0, offset: 11 },
    });
    const whole = await collections.pauses.findOne({ _id: pauseScopeId('acme', null) });
    expect(whole).toMatchObject({ paused: false, pausedAt: null, position: { partition: 0, offset: 13 } });
    expect((await collections.checkpoints.findOne({ _id: `${topics.pauses}:0` }))?.nextOffset).toBe(14);
    const cached = await cache().get('acme');
    expect(
      cached.map((c) => [c.scope.jobType, c.scope.paused, c.position.offset]).sort((a, b) => +a[2]! - +b[2]!),
    ).toEqual([
      ['http', true, 11],
      [null, false, 13],
    ]);
    expect(await cache().get('globex')).toEqual([]);

    await persist([{ partition: 0, messages: asLog(pauseHistory('acme'), 10) }]);
    expect(await collections.pauses.findOne({ _id: pauseScopeId('acme', 'http') })).toEqual(http);
    expect(await collections.pauses.countDocuments({ tenantId: 'acme' })).toBe(2);
  });

  it('keeps the later of the producer’s cached state and the folded one, and the folded one at the same position', async () => {
    const tenantId = 'initech';
    const [paused] = pauseHistory(tenantId);
    const persist = persistBatch();
    // The producer cached the state it answered with at a later position than the persister has got to.
    await cache().putNewer([{ scope: resumedScope(tenantId), position: { partition: 0, offset: 21 } }]);
    await persist([{ partition: 0, messages: asLog([paused!], 20) }]);
    expect((await cache().get(tenantId)).map((c) => [c.scope.paused, c.position.offset])).toEqual([[false, 21]]);

    // At the same position, what the persister folded from the log replaces what the producer cached.
    await cache().putNewer([
      { scope: { ...resumedScope(tenantId), reason: 'stale' }, position: { partition: 0, offset: 30 } },
    ]);
    await persist([{ partition: 0, messages: asLog([paused!], 30) }]);
    expect((await cache().get(tenantId)).map((c) => [c.scope.paused, c.scope.reason])).toEqual([
      [true, 'provider down'],
    ]);
  });

  it('quarantines what is not a pause event and folds the rest', async () => {
    const persist = persistBatch();
    const [paused] = pauseHistory('globex');
    const garbage = { offset: 0, value: Buffer.from('{"type":"WorkPaused"}') };

    expect(await persist([{ partition: 0, messages: [garbage, ...asLog([paused!], 1)] }])).toMatchObject({
      events: 1,
      poison: 1,
    });
    expect(quarantined.map((p) => p.offset)).toEqual([0]);
    expect(await collections.pauses.countDocuments({ tenantId: 'globex', paused: true })).toBe(1);
  });

  it('keeps the projection up with the topic through the persister loop', async () => {
    // The batches above left checkpoints of offsets this topic does not have.
    await collections.checkpoints.deleteMany({});
    for (const event of pauseHistory('umbrella')) await publisher.publish(event);
    persister = createPersister({
      kafka,
      admin,
      groupId: `${ns.persisterGroup}-pauses`,
      topic: topics.pauses,
      collections: joblineCollections(mongo.db),
      persistBatch: persistBatch(),
      logger,
    });
    await persister.start();

    await waitFor(
      async () => (await collections.pauses.findOne({ _id: pauseScopeId('umbrella', null) }))?.paused === false,
      { description: 'the tenant resumed as a whole, its last event' },
    );
    expect(await collections.pauses.findOne({ _id: pauseScopeId('umbrella', 'http') })).toMatchObject({
      paused: true,
      reason: 'provider still down',
    });
  });
});

function resumedScope(tenantId: string) {
  return {
    tenantId,
    jobType: 'http',
    paused: false,
    reason: null,
    pausedAt: null,
    changedBy: 'env:test',
    changedAt: at(20).toISOString(),
  };
}
