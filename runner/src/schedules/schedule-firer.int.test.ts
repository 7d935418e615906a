import {
  allTopics,
  connectMongo,
  createKafka,
  createKafkaEventPublisher,
  createKafkaSchedulePublisher,
  createLogger,
  decideSchedule,
  definitionOf,
  ensureTopics,
  evolve,
  evolveSchedule,
  joblineCollections,
  scheduledJobId,
  topicNames,
  type JobDocument,
  type JobEvent,
  type JoblineCollections,
  type KafkaEventPublisher,
  type KafkaSchedulePublisher,
  type MongoConnection,
  type ScheduleEvent,
} from '@jobline/libs';
import {
  aScheduleCreated,
  tapEvents,
  testInfra,
  testNamespace,
  waitFor,
  type ScheduleCreatedOverrides,
} from '@jobline/libs/testing';
import type { Admin, Kafka } from 'kafkajs';
import { createProjectionLookup } from '../adapters';
import { createScheduleFirer, type ScheduleFirer } from './schedule-firer';

const logger = createLogger({ service: 'test', level: 'error' });
const SECOND = 1000;

describe('schedule firer against Kafka and MongoDB', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  let kafka: Kafka;
  let admin: Admin;
  let jobsPublisher: KafkaEventPublisher;
  let schedulesPublisher: KafkaSchedulePublisher;
  let mongo: MongoConnection;
  let collections: JoblineCollections;
  let tap: Awaited<ReturnType<typeof tapEvents>>;
  const firers: ScheduleFirer[] = [];

  beforeAll(async () => {
    const infra = testInfra();
    kafka = createKafka({ brokers: infra.brokers, clientId: 'test-schedule-firer', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
    jobsPublisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 5000 });
    schedulesPublisher = createKafkaSchedulePublisher(kafka, { topic: topics.schedules, timeoutMs: 5000 });
    await Promise.all([jobsPublisher.connect(), schedulesPublisher.connect()]);
    mongo = await connectMongo(infra.mongoUri, ns.database);
    collections = joblineCollections(mongo.db);
    tap = await tapEvents(kafka, topics.events);
  });

  afterEach(async () => {
    await Promise.all(firers.splice(0).map((f) => f.stop()));
  });

  afterAll(async () => {
    await tap.stop();
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    await mongo.db.dropDatabase();
    await Promise.all([jobsPublisher.disconnect(), schedulesPublisher.disconnect(), admin.disconnect()]);
    await mongo.client.close();
  });

  /** Publishes the fires' requests, and projects their jobs at once, as a persister keeping up would. */
  async function publishAndProject(events: JobEvent[]) {
    await jobsPublisher.publish(events);
    const docs = events.map((e): JobDocument => ({
      ...evolve(null, e)!,
      _id: e.jobId,
      position: { partition: 0, offset: 0 },
    }));
    await collections.jobs.insertMany(docs, { ordered: false }).catch(() => undefined);
  }

  async function startFirer() {
    const firer = createScheduleFirer({
      kafka,
      groupId: ns.runnerGroup,
      sessionTimeoutMs: 6000,
      topic: topics.schedules,
      publish: publishAndProject,
      lookup: createProjectionLookup(collections),
      logger,
    });
    firers.push(firer);
    await firer.start();
    return firer;
  }

  async function createSchedule(overrides: ScheduleCreatedOverrides = {}) {
    const created = aScheduleCreated(overrides);
    await schedulesPublisher.publish([created]);
    return created;
  }

  async function change(history: ScheduleEvent[], paused: boolean) {
    const state = history.reduce(evolveSchedule, null)!;
    const events = decideSchedule({ type: 'ChangeSchedule', definition: definitionOf(state), paused }, state, {
      scheduleId: state.id,
      tenantId: state.tenantId,
      source: 'producer',
      now: new Date(),
    });
    await schedulesPublisher.publish(events);
    return [...history, ...events];
  }

  /**
   * Fire times of the schedule's requests that reached the job log, each as often as it was requested, in order (the
   * log keeps order per partition only, and each fire's job lands in a partition of its own).
   */
  const fireTimes = (scheduleId: string) =>
    tap.events
      .filter((e) => e.type === 'JobRequested' && e.data.metadata['jobline-schedule'] === scheduleId)
      .map((e) => Date.parse((e as Extract<JobEvent, { type: 'JobRequested' }>).data.metadata['jobline-fire-at']!))
      .sort((a, b) => a - b);

  const untilFired = (scheduleId: string, n: number, timeoutMs = 15_000) =>
    waitFor(() => fireTimes(scheduleId).length >= n && fireTimes(scheduleId), {
      timeoutMs,
      description: `${n} fires of ${scheduleId}`,
    });

  const consecutive = (times: number[]) => times.every((t, i) => i === 0 || t - times[i - 1]! === SECOND);

  it('fires a schedule every second, each fire once, under the id derived from the schedule and fire time', async () => {
    await startFirer();
    const schedule = await createSchedule();

    const times = await untilFired(schedule.scheduleId, 3);
    expect(consecutive(times)).toBe(true);
    const requests = tap.events.filter((e) => e.jobId === scheduledJobId(schedule.scheduleId, times[0]!));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ tenantId: 'acme', data: { type: 'noop', runAt: null } });
  });

  it('stops firing when paused, and after resuming fires only from then on', async () => {
    await startFirer();
    let history: ScheduleEvent[] = [await createSchedule()];
    const id = history[0]!.scheduleId;
    await untilFired(id, 1);
    history = await change(history, true);
    // Read by the firer within its fetch wait; a fire due within a second of the pause may still be under way.
    const pausedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const beforeResume = fireTimes(id);
    expect(beforeResume.filter((t) => t > pausedAt + SECOND)).toEqual([]);

    const resumedAt = Date.now();
    await change(history, false);
    const times = await untilFired(id, beforeResume.length + 2);
    expect(times.slice(beforeResume.length).every((t) => t > resumedAt - SECOND)).toBe(true);
  });

  it('after a runner stops and another takes over, fires every missed fire once (catch-up all)', async () => {
    const first = await startFirer();
    const schedule = await createSchedule({ catchUp: 'all' });
    await untilFired(schedule.scheduleId, 2);
    await first.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3000));

    await startFirer();
    const times = await waitFor(
      () => {
        const t = fireTimes(schedule.scheduleId);
        return t.at(-1)! > stoppedAt + 4 * SECOND && t;
      },
      { timeoutMs: 20_000, description: 'fires after the second runner took over' },
    );
    expect(new Set(times).size).toBe(times.length);
    expect(consecutive(times)).toBe(true);
  });

  it('after downtime, catch-up latest fires only the latest missed fire', async () => {
    const first = await startFirer();
    const schedule = await createSchedule({ catchUp: 'latest', trigger: { kind: 'interval', everyMs: 1000 } });
    const before = (await untilFired(schedule.scheduleId, 1)).length;
    await first.stop();
    const stoppedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 3500));

    await startFirer();
    const times = await untilFired(schedule.scheduleId, before + 1);
    // The first fire after the take-over is the latest due one; the ones between were dropped.
    expect(times[before]! - stoppedAt).toBeGreaterThan(2500);
  });

  it('skips fires while the previous fire’s job runs (overlap skip), and fires again once it has finished', async () => {
    await startFirer();
    const schedule = await createSchedule({ overlap: 'skip' });
    const [first] = await untilFired(schedule.scheduleId, 1);
    const firstJob = scheduledJobId(schedule.scheduleId, first!);
    await collections.jobs.updateOne({ _id: firstJob }, { $set: { status: 'processing' } });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(fireTimes(schedule.scheduleId).length).toBeLessThanOrEqual(2);

    const finishedAt = Date.now();
    await collections.jobs.updateOne({ _id: firstJob }, { $set: { status: 'completed' } });
    const times = await waitFor(() => fireTimes(schedule.scheduleId).find((t) => t > finishedAt), {
      description: 'a fire after the previous job finished',
    });
    expect(times).toBeGreaterThan(finishedAt);
  });
  it('holds one fire back while the previous fire’s job runs (overlap bufferOne), and makes it once that job finished', async () => {
    await startFirer();
    const schedule = await createSchedule({ overlap: 'bufferOne' });
    const [first] = await untilFired(schedule.scheduleId, 1);
    const firstJob = scheduledJobId(schedule.scheduleId, first!);
    await collections.jobs.updateOne({ _id: firstJob }, { $set: { status: 'processing' } });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const later = () => fireTimes(schedule.scheduleId).filter((t) => t > first!);
    expect(later()).toEqual([]);

    await collections.jobs.updateOne({ _id: firstJob }, { $set: { status: 'completed' } });
    await waitFor(() => later().length > 0, { description: 'the buffered fire made' });
    // The fire held back is the first that came due while the job ran; the others were dropped.
    expect(later()).toEqual([first! + SECOND]);
  });
});
