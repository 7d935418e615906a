import { MongoClient } from 'mongodb';
import { Kafka, logLevel } from 'kafkajs';
import {
  FIRE_AT_METADATA_KEY,
  SCHEDULE_METADATA_KEY,
  scheduledJobId,
  topicNames,
  type Env,
  type JobDocument,
  type JobEventDocument,
} from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { auditLog } from './log-audit';
import { joblineEnv, ServiceProcess, type ServiceName } from './service-process';

const SECOND = 1000;

/**
 * A schedule firing every second, with producer, persister and runner as processes on real Kafka, MongoDB and Redis,
 * while the runner is killed (SIGKILL) and started again: every fire time from the first to the last has exactly one
 * job (the fires missed while no runner held the schedule are caught up, none is made twice), each job's request is
 * stored once, and every job completes.
 */
describe('a schedule across a runner crash', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const kafka = new Kafka({ brokers: testInfra().brokers, clientId: 'schedules-e2e', logLevel: logLevel.NOTHING });
  const mongo = new MongoClient(testInfra().mongoUri);
  const services = new Map<ServiceName, ServiceProcess>();
  const headers = { authorization: 'Bearer schedule-token', 'content-type': 'application/json' };
  let env: Env;
  let base: string;

  const jobs = () => mongo.db(ns.database).collection<JobDocument>('jobs');
  const firedJobs = async (scheduleId: string) =>
    (
      await jobs()
        .find({ [`metadata.${SCHEDULE_METADATA_KEY}`]: scheduleId })
        .toArray()
    )
      .map((job) => ({ job, fireAt: Date.parse(job.metadata[FIRE_AT_METADATA_KEY]!) }))
      .sort((a, b) => a.fireAt - b.fireAt);

  beforeAll(async () => {
    ({ base, env } = await joblineEnv(ns, {
      API_TOKENS: 'schedule-token:schedules',
      // A killed runner's schedules move to the restarted one after this long.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    }));
    const started = await Promise.all(
      (['producer', 'consumer', 'runner'] as const).map((name) => ServiceProcess.start(name, env)),
    );
    for (const service of started) services.set(service.name, service);
    await mongo.connect();
  });

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop()));
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('fires exactly once per fire time, catching up on the fires missed while the runner was down', async () => {
    const res = await fetch(`${base}/v1/schedules`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ cron: '* * * * * *', job: { type: 'noop' }, catchUp: 'all', catchUpLimit: 100 }),
    });
    expect(res.status).toBe(201);
    const { id } = await readJson(res);
    await waitFor(async () => (await firedJobs(id)).length >= 3, { timeoutMs: 30_000, description: 'three fires' });

    expect(await services.get('runner')!.stop('SIGKILL')).toBeNull();
    const killedAt = Date.now();
    services.set('runner', await ServiceProcess.start('runner', env));
    await waitFor(async () => (await firedJobs(id)).some((f) => f.fireAt > killedAt + 12 * SECOND), {
      timeoutMs: 60_000,
      description: 'fires made by the restarted runner',
    });
    expect((await fetch(`${base}/v1/schedules/${id}`, { method: 'DELETE', headers })).status).toBe(204);

    const fired = await waitFor(
      async () => {
        const all = await firedJobs(id);
        return all.every((f) => f.job.status === 'completed') && all;
      },
      { timeoutMs: 30_000, description: 'every fired job completed' },
    );
    const times = fired.map((f) => f.fireAt);
    // No gap: one job per second from the first fire to the last, across the time the runner was down.
    expect(times.at(-1)! - times[0]!).toBe((times.length - 1) * SECOND);
    expect(times[0]!).toBeLessThan(killedAt);
    expect(fired.map((f) => f.job._id)).toEqual(times.map((t) => scheduledJobId(id, t)));
    // No double: each fire's request is stored once, however often a runner made it.
    const requests = await mongo
      .db(ns.database)
      .collection<JobEventDocument>('job_events')
      .countDocuments({ jobId: { $in: fired.map((f) => f.job._id) }, 'event.type': 'JobRequested' });
    expect(requests).toBe(fired.length);
    const findings = await auditLog(kafka, topics.events, mongo.db(ns.database), new Set(fired.map((f) => f.job._id)));
    expect(findings).toMatchObject({
      unfinished: [],
      foldMismatches: [],
      duplicateStoredEvents: [],
      unstoredEvents: [],
    });
  });
});
