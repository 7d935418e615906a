import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import {
  checkpointId,
  decodeEvent,
  foldEvents,
  isTerminal,
  jobFromDocument,
  type CheckpointDocument,
  type Job,
  type JobDocument,
  type JobEvent,
  type JobStatus,
} from '@jobline/libs';
import { waitFor } from '@jobline/libs/testing';

/** The next offset of each partition of a topic: where its log ends now. */
export async function logEnds(kafka: Kafka, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, Number(o.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Every event of a topic up to `ends`, per job in log order. */
export async function readLog(
  kafka: Kafka,
  topic: string,
  ends: Map<number, number>,
): Promise<{ byJob: Map<string, JobEvent[]>; all: JobEvent[] }> {
  const consumer = kafka.consumer({ groupId: `audit-${randomUUID()}` });
  const perPartition = new Map<number, JobEvent[]>();
  const reached = new Map<number, number>();
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const offset = Number(message.offset);
      if (offset >= (ends.get(partition) ?? 0)) return;
      const decoded = decodeEvent(message.value);
      if (decoded.ok) perPartition.set(partition, [...(perPartition.get(partition) ?? []), decoded.event]);
      reached.set(partition, offset + 1);
    },
  });
  try {
    await waitFor(() => [...ends].every(([partition, end]) => (reached.get(partition) ?? 0) >= end), {
      timeoutMs: 60_000,
      description: `the whole of ${topic}`,
    });
  } finally {
    await consumer.disconnect();
  }

  const all = [...perPartition.values()].flat();
  const byJob = new Map<string, JobEvent[]>();
  for (const event of all) byJob.set(event.jobId, [...(byJob.get(event.jobId) ?? []), event]);
  return { byJob, all };
}

/** The status a job's first terminal event gave it: what every later event must leave alone. */
export function firstTerminalStatus(events: readonly JobEvent[]): JobStatus | null {
  let job: Job | null = null;
  for (const event of events) {
    job = foldEvents([event], job);
    if (job && isTerminal(job.status)) return job.status;
  }
  return null;
}

export interface AuditFindings {
  /** Accepted jobs the projection does not hold in a terminal status. */
  unfinished: { id: string; status: JobStatus | 'absent' }[];
  /** Jobs whose projected status is not the one their first terminal event in the log gave them. */
  statusChanged: { id: string; projected: JobStatus; first: JobStatus | null }[];
  /** Jobs whose projection differs from the fold of their events in the log. */
  foldMismatches: { id: string; projected: Job | null; folded: Job | null }[];
  /** Event ids stored more than once in `job_events`. */
  duplicateStoredEvents: string[];
  /** Log events (by id) missing from `job_events`, and stored events not in the log. */
  unstoredEvents: string[];
  strayStoredEvents: string[];
  /** Log entries that repeat an event id already in the log (harmless: the persister stores each event once). */
  repeatedLogEntries: number;
}

/**
 * Compares the log, the event store and the projection after a failure: every accepted job is finished exactly once,
 * every event of the log is stored once, and each job's projection is the fold of its events.
 */
export async function auditLog(
  kafka: Kafka,
  topic: string,
  db: Db,
  accepted: Iterable<string>,
): Promise<AuditFindings> {
  // Runners may still be writing the tail of a re-run; audit the log as it is now, once the persister has folded it.
  const ends = await logEnds(kafka, topic);
  const checkpoints = db.collection<CheckpointDocument>('checkpoints');
  await waitFor(
    async () => {
      const done = await checkpoints
        .find({ _id: { $in: [...ends.keys()].map((p) => checkpointId(topic, p)) } })
        .toArray();
      return [...ends].every(([p, end]) => (done.find((c) => c.partition === p)?.nextOffset ?? 0) >= end);
    },
    { timeoutMs: 60_000, intervalMs: 100, description: 'the persister to reach the end of the log' },
  );
  const { byJob, all } = await readLog(kafka, topic, ends);
  const docs = await db.collection<JobDocument>('jobs').find().toArray();
  const projected = new Map(docs.map((d) => [d._id, jobFromDocument(d)]));
  const stored = await db
    .collection<{ _id: string }>('job_events')
    .aggregate<{ _id: string; n: number }>([{ $group: { _id: '$event.eventId', n: { $sum: 1 } } }])
    .toArray();
  const storedIds = new Set(stored.map((s) => s._id));
  const logIds = new Set(all.map((e) => e.eventId));

  const findings: AuditFindings = {
    unfinished: [],
    statusChanged: [],
    foldMismatches: [],
    duplicateStoredEvents: stored.filter((s) => s.n > 1).map((s) => s._id),
    unstoredEvents: [...logIds].filter((id) => !storedIds.has(id)),
    strayStoredEvents: [...storedIds].filter((id) => !logIds.has(id)),
    repeatedLogEntries: all.length - logIds.size,
  };
  for (const id of accepted) {
    const job = projected.get(id);
    if (!job || !isTerminal(job.status)) {
      findings.unfinished.push({ id, status: job?.status ?? 'absent' });
      continue;
    }
    const first = firstTerminalStatus(byJob.get(id) ?? []);
    if (first !== job.status) findings.statusChanged.push({ id, projected: job.status, first });
  }
  for (const [id, events] of byJob) {
    const folded = foldEvents(events);
    const job = projected.get(id) ?? null;
    if (!isDeepStrictEqual(folded, job)) {
      findings.foldMismatches.push({ id, projected: job, folded });
    }
  }
  return findings;
}
