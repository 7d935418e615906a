import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allTopics,
  createKafka,
  createKafkaEventPublisher,
  createLogger,
  ensureTopics,
  JobEvent,
  newEvent,
  topicNames,
  type KafkaEventPublisher,
} from '@jobline/libs';
import { aJobRequested, testInfra, testNamespace } from '@jobline/libs/testing';
import type { Admin, Kafka, Producer } from 'kafkajs';
import { exportEvents } from './export-events';
import { EXIT_REFUSED, EXIT_SAME, runReplayCli } from './replay-cli';

const logger = createLogger({ service: 'test', level: 'error' });
const ROOT = join(__dirname, '..', '..');
const HOUR = 3_600_000;
/** The range exported: [T0, T0 + 1h). */
const T0 = Date.parse('2026-03-01T00:00:00.000Z');

/** A job requested at `at`, started a minute later and completed a minute after that. */
function history(at: number, tenantId = 'acme'): JobEvent[] {
  const requested = aJobRequested({ tenantId, now: new Date(at) });
  const ctx = (ms: number) => ({ jobId: requested.jobId, tenantId, source: 'runner' as const, now: new Date(at + ms) });
  return [
    requested,
    newEvent('JobStarted', ctx(60_000), { attempt: 1, runnerId: 'r1' }),
    newEvent('JobCompleted', ctx(120_000), { attempt: 1, result: null, resultUrl: null }),
  ];
}

function captureIo() {
  let stdout = '';
  let stderr = '';
  return {
    io: {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: false },
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

const lines = (ndjson: string) => ndjson.split('\n').filter(Boolean);

describe('export of the event history of a time range as NDJSON', () => {
  const ns = testNamespace();
  const topics = topicNames(ns.topicPrefix);
  const cliEnv = { ...ns.env, LOG_LEVEL: 'error' };
  let kafka: Kafka;
  let admin: Admin;
  let publisher: KafkaEventPublisher;
  let rawProducer: Producer;
  let dir: string;
  /** Every event published, in publish order; the events expected in the range, by id. */
  const published: JobEvent[] = [];
  let inRange: Map<string, JobEvent>;

  beforeAll(async () => {
    const infra = testInfra();
    kafka = createKafka({ brokers: infra.brokers, clientId: 'test-export', logger });
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, topics, { eventPartitions: 3, replicationFactor: 1 }, logger);
    publisher = createKafkaEventPublisher(kafka, { topic: topics.events, timeoutMs: 10_000 });
    rawProducer = kafka.producer();
    await Promise.all([publisher.connect(), rawProducer.connect()]);
    dir = mkdtempSync(join(tmpdir(), 'export-'));

    // Jobs before the range, across its start, inside it, across its end (T0 + 1h is excluded) and after it.
    const starts = [-2 * HOUR, -90_000, 0, 10 * 60_000, 30 * 60_000, HOUR - 60_000, HOUR, 2 * HOUR];
    const histories = starts.flatMap((offset, n) => [history(T0 + offset, n % 2 ? 'acme' : 'globex')]);
    for (const h of histories) published.push(...h);
    // A publish retried after a timeout appends an event a second time.
    published.push(histories[3]![1]!);
    for (let i = 0; i < published.length; i += 7) await publisher.publish(published.slice(i, i + 7));
    await rawProducer.send({ topic: topics.events, messages: [{ key: 'junk', value: '{not json' }] });

    inRange = new Map(
      published
        .filter((e) => Date.parse(e.occurredAt) >= T0 && Date.parse(e.occurredAt) < T0 + HOUR)
        .map((e) => [e.eventId, e]),
    );
  });

  afterAll(async () => {
    await admin.deleteTopics({ topics: allTopics(topics) }).catch(() => undefined);
    await Promise.all([publisher.disconnect(), rawProducer.disconnect(), admin.disconnect()]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The exported lines hold each event of the range once, as published, each job's events in their log order. */
  function expectTheRange(exported: string[]) {
    const events = exported.map((line) => JobEvent.parse(JSON.parse(line)));
    expect(events.map((e) => e.eventId).sort()).toEqual([...inRange.keys()].sort());
    for (const event of events) {
      expect(event).toEqual(inRange.get(event.eventId));
      expect(existsSync(join(ROOT, 'docs', 'events', `${event.type}.schema.json`))).toBe(true);
    }
    const jobIds = new Set(events.map((e) => e.jobId));
    for (const jobId of jobIds) {
      const order = (list: JobEvent[]) => [...new Set(list.filter((e) => e.jobId === jobId).map((e) => e.eventId))];
      expect(order(events)).toEqual(order(published).filter((id) => inRange.has(id)));
    }
  }

  it('writes the events whose occurredAt is in [--since, --until) to --out, each once, and a summary on stdout', async () => {
    const out = join(dir, 'range.ndjson');
    const { io, stdout, stderr } = captureIo();

    const code = await runReplayCli(
      ['--export', '--since', '2026-03-01T00:00:00Z', '--until', '2026-03-01T01:00:00Z', '--out', out],
      cliEnv,
      io,
    );

    expect({ code, stderr: stderr().replace(/^replay: .* events\/s\n/gm, '') }).toEqual({
      code: EXIT_SAME,
      stderr: '',
    });
    // Three whole jobs, and one event of each job across an edge.
    expect(inRange.size).toBe(11);
    expectTheRange(lines(readFileSync(out, 'utf8')));
    expect(lines(stdout())).toHaveLength(1);
    expect(JSON.parse(stdout())).toEqual({
      events: 11,
      // The event appended twice lies in the range.
      repeated: 1,
      undecodable: 1,
      scanned: published.length + 1,
      seconds: expect.any(Number),
      since: '2026-03-01T00:00:00.000Z',
      until: '2026-03-01T01:00:00.000Z',
      topic: topics.events,
      out,
    });
  });

  it('writes the events to stdout and the summary to stderr without --out, up to now without --until', async () => {
    const { io, stdout, stderr } = captureIo();

    const code = await runReplayCli(['--export', '--since', '2026-03-01T01:05:00+01:00'], cliEnv, io);

    expect(code).toBe(EXIT_SAME);
    const exported = lines(stdout()).map((line) => JobEvent.parse(JSON.parse(line)));
    const expected = new Set(
      published.filter((e) => Date.parse(e.occurredAt) >= T0 + 5 * 60_000).map((e) => e.eventId),
    );
    expect(exported.map((e) => e.eventId).sort()).toEqual([...expected].sort());
    const summary = JSON.parse(lines(stderr()).at(-1)!);
    expect(summary).toMatchObject({ events: expected.size, repeated: 1, undecodable: 1 });
    expect(summary).not.toHaveProperty('out');
  });

  it('writes nothing twice when a write fails and the batch comes again', async () => {
    let failed = false;
    let ndjson = '';
    const result = await exportEvents({
      kafka,
      admin,
      topic: topics.events,
      range: { since: new Date(T0), until: new Date(T0 + HOUR) },
      logger,
      write: async (text) => {
        if (!failed) {
          failed = true;
          throw new Error('disk full, for a moment');
        }
        ndjson += text;
      },
    });

    expect(failed).toBe(true);
    expectTheRange(lines(ndjson));
    expect(result).toMatchObject({ events: 11, repeated: 1, undecodable: 1, scanned: published.length + 1 });
  });

  it('refuses a topic that does not exist, with exit code 2', async () => {
    const { io, stderr } = captureIo();

    const code = await runReplayCli(
      ['--export', '--since', '2026-03-01'],
      { ...cliEnv, KAFKA_TOPIC_PREFIX: `${ns.topicPrefix}absent.` },
      io,
    );

    expect(code).toBe(EXIT_REFUSED);
    expect(stderr()).toMatch(/the topic .*absent\.job-events does not exist/);
  });
});
