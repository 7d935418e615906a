import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import {
  TERMINAL_STATUSES,
  connectRedis,
  topicNames,
  type Env,
  type JobDocument,
  type JobEventDocument,
  type JobStatus,
  type JobView,
} from '@jobline/libs';
import { readJson, testInfra, testNamespace, waitFor } from '@jobline/libs/testing';
import { auditLog, logEnds, type AuditFindings } from './log-audit';
import { joblineEnv, ServiceProcess, type ServiceName } from './service-process';
import { setKafkaRunning } from './stack-control';

const TERMINAL = [...TERMINAL_STATUSES];
const CLEAN: Partial<AuditFindings> = {
  unfinished: [],
  statusChanged: [],
  foldMismatches: [],
  duplicateStoredEvents: [],
  unstoredEvents: [],
  strayStoredEvents: [],
};

/**
 * Crash safety, with producer, persister and runner as processes on real Kafka, MongoDB and Redis: processes are
 * killed with SIGKILL while jobs are in flight, Kafka restarts under submissions, Redis loses its data. Afterwards
 * every job that got a 202 has exactly one terminal status, every event of the log is stored once, and the projection
 * equals the fold of the log.
 */
describe('crash safety', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const kafka = new Kafka({ brokers: testInfra().brokers, clientId: 'crash-e2e', logLevel: logLevel.NOTHING });
  const mongo = new MongoClient(testInfra().mongoUri);
  const services = new Map<ServiceName, ServiceProcess>();
  const accepted = new Set<string>();
  let env: Env;
  let base: string;

  const headers = { authorization: 'Bearer crash-token', 'content-type': 'application/json' };
  const jobs = () => mongo.db(ns.database).collection<JobDocument>('jobs');

  /** Submits a job; the id when it was accepted (202), else null. */
  const submit = async (body: unknown): Promise<string | null> => {
    const res = await fetch(`${base}/v1/jobs`, { method: 'POST', headers, body: JSON.stringify(body) }).catch(
      () => null,
    );
    if (res?.status !== 202) return null;
    const view = (await readJson(res)) as JobView;
    accepted.add(view.id);
    return view.id;
  };

  /** Short jobs, a fifth of which fail once and are retried after a short backoff. */
  const jobBody = (i: number) => ({
    type: 'sleep',
    payload: { ms: 100 + (i % 4) * 100, ...(i % 5 === 0 ? { failAttempts: 1 } : {}) },
    backoff: { type: 'fixed', delayMs: 200 },
  });

  const submitWave = async (n: number): Promise<string[]> => {
    const ids = await Promise.all(Array.from({ length: n }, (_, i) => submit(jobBody(i))));
    return ids.filter((id): id is string => id !== null);
  };

  const count = (ids: string[], statuses: readonly JobStatus[]) =>
    jobs().countDocuments({ _id: { $in: ids }, status: { $in: [...statuses] } });

  const untilFinished = (ids: string[]) =>
    waitFor(async () => (await count(ids, TERMINAL)) === ids.length, {
      timeoutMs: 120_000,
      intervalMs: 250,
      description: `${ids.length} jobs to finish`,
    });

  const crash = async (name: ServiceName) => {
    expect(await services.get(name)!.stop('SIGKILL')).toBeNull();
    services.set(name, await ServiceProcess.start(name, env));
  };

  const expectConsistent = async () => {
    const findings = await auditLog(kafka, topics.events, mongo.db(ns.database), accepted);
    expect(findings).toMatchObject(CLEAN);
  };

  beforeAll(async () => {
    ({ base, env } = await joblineEnv(ns, {
      API_TOKENS: 'crash-token:crash',
      RUNNER_CONCURRENCY: '4',
      // A killed member's partitions move to the restarted one after this long.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
    }));
    services.set('producer', await ServiceProcess.start('producer', env));
    const [consumer, runner] = await Promise.all([
      ServiceProcess.start('consumer', env),
      ServiceProcess.start('runner', env),
    ]);
    services.set('consumer', consumer);
    services.set('runner', runner);
    await mongo.connect();
  });

  afterAll(async () => {
    await Promise.all([...services.values()].map((s) => s.stop()));
    await mongo.db(ns.database).dropDatabase();
    await mongo.close();
  });

  it('loses nothing when the runner is killed mid-batch, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      const ids = await submitWave(40);
      expect(ids).toHaveLength(40);
      await waitFor(async () => (await count(ids, ['processing'])) > 0 && (await count(ids, TERMINAL)) < ids.length, {
        timeoutMs: 30_000,
        intervalMs: 20,
        description: 'jobs of the wave to be running',
      });
      await crash('runner');
      await untilFinished(ids);
    }

    await expectConsistent();
  });

  it('loses nothing when the persister is killed mid-batch, three times over', async () => {
    for (let round = 0; round < 3; round++) {
      const ids = await submitWave(40);
      expect(ids).toHaveLength(40);
      await waitFor(async () => (await count(ids, ['pending', 'processing', 'scheduled', ...TERMINAL])) > 0, {
        timeoutMs: 30_000,
        intervalMs: 20,
        description: 'the persister to be folding the wave',
      });
      await crash('consumer');
      await untilFinished(ids);
    }

    await expectConsistent();
  });

  it('runs scheduled jobs on time, never early, when the runner holding their timers is killed', async () => {
    // Due in 3 to 10.6 s: the nearest wait in the runner's memory, the later ones pass through the 5 s delay topic.
    const ids = (
      await Promise.all(Array.from({ length: 20 }, (_, i) => submit({ type: 'noop', delayMs: 3000 + i * 400 })))
    ).filter((id): id is string => id !== null);
    expect(ids).toHaveLength(20);
    const firstTier = topics.delays[0]!.topic;
    await waitFor(async () => [...(await logEnds(kafka, firstTier)).values()].some((end) => end > 0), {
      timeoutMs: 30_000,
      description: 'the runner to hold timers',
    });

    await crash('runner');
    await untilFinished(ids);

    const docs = await jobs()
      .find({ _id: { $in: ids } })
      .toArray();
    const starts = await mongo
      .db(ns.database)
      .collection<JobEventDocument>('job_events')
      .aggregate<{ _id: string; first: string }>([
        { $match: { jobId: { $in: ids }, 'event.type': 'JobStarted' } },
        { $group: { _id: '$jobId', first: { $min: '$event.occurredAt' } } },
      ])
      .toArray();
    const firstStart = new Map(starts.map((s) => [s._id, Date.parse(s.first)]));
    const lateness = docs.map((d) => firstStart.get(d._id)! - Date.parse(d.runAt!));
    expect(docs.map((d) => d.status)).toEqual(ids.map(() => 'completed'));
    expect(Math.min(...lateness)).toBeGreaterThanOrEqual(0);
    // The restarted runner takes the partitions over once the killed one's session (6 s) has expired.
    expect(Math.max(...lateness)).toBeLessThan(20_000);

    await expectConsistent();
  });

  it('finishes every accepted job when Kafka restarts during submissions', async () => {
    let submitting = true;
    const submitted: string[] = [];
    const refused: number[] = [];
    const client = (async () => {
      for (let i = 0; submitting; i++) {
        const id = await submit(jobBody(i));
        if (id) submitted.push(id);
        else refused.push(i);
      }
    })();

    await waitFor(() => submitted.length >= 20, { timeoutMs: 30_000, description: 'submissions before the restart' });
    await setKafkaRunning(false);
    try {
      await waitFor(() => refused.length >= 1, { timeoutMs: 60_000, description: 'a refused submission' });
    } finally {
      await setKafkaRunning(true);
    }
    const before = submitted.length;
    await waitFor(() => submitted.length >= before + 20, {
      timeoutMs: 120_000,
      description: 'submissions after the restart',
    });
    submitting = false;
    await client;

    await untilFinished(submitted);
    await expectConsistent();
  });

  it('serves the truth from MongoDB and keeps going when Redis loses its data, twice over', async () => {
    const redis = connectRedis(testInfra().redisUrl);
    await redis.connect();
    // Every key jobline holds lives under its prefix; tests share the server, so only this namespace's are dropped.
    const flush = async () => {
      const keys = await redis.keys(`${ns.redisPrefix}*`);
      if (keys.length > 0) await redis.del(...keys);
    };
    try {
      const all: string[] = [];
      for (let round = 0; round < 2; round++) {
        const ids = await submitWave(40);
        all.push(...ids);
        await waitFor(async () => (await count(ids, ['processing', ...TERMINAL])) > 0, {
          timeoutMs: 30_000,
          intervalMs: 20,
          description: 'jobs of the wave to be running',
        });
        await flush();
        await untilFinished(ids);
      }
      await flush();

      const projected = new Map(
        (
          await jobs()
            .find({ _id: { $in: all } })
            .toArray()
        ).map((d) => [d._id, d.status]),
      );
      const served = await Promise.all(
        all.map(async (id) => {
          const view = (await readJson(await fetch(`${base}/v1/jobs/${id}`, { headers }))) as JobView;
          return [id, view.status] as const;
        }),
      );
      expect(new Map(served)).toEqual(projected);
    } finally {
      await redis.quit();
    }

    await expectConsistent();
  });
});
