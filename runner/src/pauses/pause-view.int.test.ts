import { randomUUID } from 'node:crypto';
import {
  allTopics,
  createKafka,
  createKafkaPausePublisher,
  createLogger,
  ensureTopics,
  topicNames,
  type KafkaPausePublisher,
  type PauseEvent,
} from '@jobline/libs';
import { aWorkPaused, aWorkResumed, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import type { Admin, Kafka } from 'kafkajs';
import { createPauseView, type PauseView } from './pause-view';

const logger = createLogger({ service: 'test', level: 'error' });

describe('the runner’s pause view against Kafka', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  /** A pause topic of three partitions, as an operator may have created it. */
  const spreadTopic = `${ns.topicPrefix}pause-events-spread`;
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaPausePublisher;
  let spreadPublisher: KafkaPausePublisher;
  const views: PauseView[] = [];

  beforeAll(async () => {
    kafka = createKafka({ brokers: testInfra().brokers, clientId: 'test-pause-view', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 1, replicationFactor: 1 }, logger);
    await admin.createTopics({ topics: [{ topic: spreadTopic, numPartitions: 3 }], waitForLeaders: true });
    publisher = createKafkaPausePublisher(kafka, { topic: topics.pauses, timeoutMs: 5000 });
    spreadPublisher = createKafkaPausePublisher(kafka, { topic: spreadTopic, timeoutMs: 5000 });
    await Promise.all([publisher.connect(), spreadPublisher.connect()]);
  });

  afterAll(async () => {
    await Promise.all(views.map((v) => v.stop()));
    await admin.deleteTopics({ topics: [...allTopics(topics), spreadTopic] }).catch(() => undefined);
    await Promise.all([publisher.disconnect(), spreadPublisher.disconnect(), admin.disconnect()]);
  });

  const startView = async (topic = topics.pauses) => {
    const view = createPauseView({ kafka, topic, groupId: `${ns.runnerGroup}-pauses-${randomUUID()}`, logger });
    views.push(view);
    await view.start();
    return view;
  };
  const publishAll = async (events: PauseEvent[], to = publisher) => {
    for (const event of events) await to.publish(event);
  };

  it('starts on an empty topic', async () => {
    const view = await startView();
    expect(view.isPaused('acme', 'http')).toBe(false);
  });

  it('knows every pause in the log once started, up to the last event there was', async () => {
    // The last event of each scope decides: `flip` ends paused, `flop` ends resumed, after many changes.
    const history: PauseEvent[] = [];
    for (let i = 0; i < 150; i++) {
      history.push(i % 2 === 0 ? aWorkPaused({ tenantId: 'flip' }) : aWorkResumed({ tenantId: 'flip' }));
      history.push(
        i % 2 === 0
          ? aWorkResumed({ tenantId: 'flop', jobType: 'http' })
          : aWorkPaused({ tenantId: 'flop', jobType: 'http' }),
      );
    }
    history.push(aWorkPaused({ tenantId: 'flip' }), aWorkResumed({ tenantId: 'flop', jobType: 'http' }));
    await publishAll(history);

    const view = await startView();
    expect(view.isPaused('flip', 'noop')).toBe(true);
    expect(view.isPaused('flop', 'http')).toBe(false);
  });

  it('follows pauses and resumes made after it started, and tells its listeners', async () => {
    const view = await startView();
    let changes = 0;
    const stop = view.onChange(() => (changes += 1));

    await publisher.publish(aWorkPaused({ tenantId: 'live', jobType: 'sleep', reason: 'load test' }));
    await waitFor(() => view.isPaused('live', 'sleep'), { description: 'sleep paused for tenant live' });
    expect(changes).toBe(1);
    expect(view.isPaused('live', 'noop')).toBe(false);
    expect(view.isPaused('other', 'sleep')).toBe(false);

    // A new reason changes nothing that is paused: no call.
    await publisher.publish(aWorkPaused({ tenantId: 'live', jobType: 'sleep', reason: 'still load testing' }));
    await publisher.publish(aWorkPaused({ tenantId: 'live' }));
    await waitFor(() => view.isPaused('live', 'noop'), { description: 'tenant live paused as a whole' });
    expect(changes).toBe(2);

    await publisher.publish(aWorkResumed({ tenantId: 'live' }));
    await waitFor(() => !view.isPaused('live', 'noop'), { description: 'tenant live resumed as a whole' });
    expect(view.isPaused('live', 'sleep')).toBe(true);
    expect(changes).toBe(3);

    stop();
    await publisher.publish(aWorkResumed({ tenantId: 'live', jobType: 'sleep' }));
    await waitFor(() => !view.isPaused('live', 'sleep'), { description: 'sleep resumed for tenant live' });
    expect(changes).toBe(3);
  });

  it('gives a view started later the state of the log when it starts', async () => {
    const first = await startView();
    await publishAll([
      aWorkPaused({ tenantId: 'later', jobType: 'http' }),
      aWorkPaused({ tenantId: 'later', jobType: 'data.export' }),
      aWorkResumed({ tenantId: 'later', jobType: 'data.export' }),
    ]);
    await waitFor(() => first.isPaused('later', 'http'), { description: 'the first view sees the pause' });

    const second = await startView();
    expect(second.isPaused('later', 'http')).toBe(true);
    expect(second.isPaused('later', 'data.export')).toBe(false);
  });

  it('reads every partition of a topic that has several', async () => {
    const tenants = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
    await publishAll(
      tenants.map((tenantId) => aWorkPaused({ tenantId, jobType: 'noop' })),
      spreadPublisher,
    );
    const partitions = (await admin.fetchTopicOffsets(spreadTopic)).filter((p) => Number(p.high) > 0);
    expect(partitions.length).toBeGreaterThan(1);

    const view = await startView(spreadTopic);
    expect(tenants.filter((t) => !view.isPaused(t, 'noop'))).toEqual([]);
  });
});
