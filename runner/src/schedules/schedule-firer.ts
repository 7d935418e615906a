import type { Consumer, Kafka } from 'kafkajs';
import {
  decodeScheduleEvent,
  evolveSchedule,
  groupTimeouts,
  recoverFireProgress,
  recoveryCandidates,
  recoverySteps,
  scheduledJobId,
  type Schedule,
} from '@jobline/libs';
import { FiringSchedule, type FiringDeps } from './firing-schedule';

export interface ScheduleFirerOptions extends FiringDeps {
  kafka: Kafka;
  /** The runners' group for schedules: each partition of the schedule topic, and so each schedule, has one owner. */
  groupId: string;
  topic: string;
  /** Kafka group session timeout: how soon a crashed runner's schedules move to another. @defaultValue 30000 */
  sessionTimeoutMs?: number;
}

export interface ScheduleFirer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Schedules this runner fires now. */
  readonly firing: number;
}

const RETRY_MAX_MS = 30_000;

/**
 * Where schedules fire: in the runners, exactly one runner per schedule.
 *
 * The runners form a consumer group over `jobline.schedule-events` (keyed by schedule id). The runner that holds a
 * partition fires every schedule in it, and no other runner does. It never commits an offset: whenever it is assigned
 * partitions it reads them from the beginning and folds each schedule's definition with `evolveSchedule` (the topic
 * holds definitions only, not fires, so this stays small). Until a partition is read up to the end it had on
 * assignment, none of its schedules fires, so a schedule paused or deleted later in the log never fires from an older
 * state. Then it finds how far each schedule's fires got from the job projection: a fire's job id is derived from the
 * schedule and the fire time (`scheduledJobId`), so the runner looks up the jobs of the latest due fire times, and the
 * latest that exists is where the fires got to. From there the catch-up policy decides about the fires missed while
 * no runner held the schedule (`planDueFires`), and a timer in memory waits for the next fire (`FiringSchedule`).
 *
 * Why a double fire is harmless: two runners may both fire a schedule around a rebalance, and a runner that finds a
 * fire's job not projected yet fires it again. Every firing of one fire time publishes the same `JobRequested`, with
 * the same job id and event id; the job log keeps the first (the job state machine ignores a request for a job that
 * exists, the persister stores an event id once, and the runner that executes jobs does not start an attempt twice
 * for a repeated request). And no fire is skipped silently: a fire is decided (made, or dropped by the catch-up or
 * overlap policy, which is logged) before the next is looked at, and a restart resumes after the latest fire made.
 */
export function createScheduleFirer(options: ScheduleFirerOptions): ScheduleFirer {
  const { kafka, topic, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 250,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  const admin = kafka.admin();
  /** Schedules by id, with their partition, as read since the latest assignment. */
  let states = new Map<string, { partition: number; schedule: Schedule }>();
  /** Schedules firing, by id: those of partitions read up to their end. */
  let firing = new Map<string, FiringSchedule>();
  /** Per assigned partition, the offset up to which it must be read before its schedules fire. */
  let catchUpEnds = new Map<number, number>();
  /** Partitions read up to their end (their schedules are being recovered), and those whose schedules fire. */
  let caughtUp = new Set<number>();
  let ready = new Set<number>();
  let generation = 0;
  let stopping = false;

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    const partitions = e.payload.memberAssignment[topic] ?? [];
    generation += 1;
    const old = firing;
    states = new Map();
    firing = new Map();
    catchUpEnds = new Map();
    caughtUp = new Set();
    ready = new Set();
    void Promise.all([...old.values()].map((f) => f.stop()));
    logger.info('firing schedules of partitions', { topic, partitions });
    void findLogEnds(generation, partitions);
  });

  /** Reads where each assigned partition ends now, and reads each from its beginning. */
  async function findLogEnds(gen: number, partitions: number[]) {
    for (let failures = 0; gen === generation && !stopping; failures++) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic);
        if (gen !== generation) return;
        for (const partition of partitions) {
          const o = offsets.find((x) => x.partition === partition);
          catchUpEnds.set(partition, Number(o?.high ?? 0));
          consumer.seek({ topic, partition, offset: o?.low ?? '0' });
          if (Number(o?.high ?? 0) <= Number(o?.low ?? 0)) void partitionRead(gen, partition);
        }
        return;
      } catch (err) {
        logger.warn('could not read the schedule topic’s ends; trying again', { err });
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, RETRY_MAX_MS)));
      }
    }
  }

  /** A partition is read up to its end: find where its schedules' fires got to, and start firing them. */
  async function partitionRead(gen: number, partition: number) {
    if (caughtUp.has(partition)) return;
    caughtUp.add(partition);
    const inPartition = () => [...states.values()].filter((s) => s.partition === partition).map((s) => s.schedule);
    for (let failures = 0; gen === generation && !stopping; failures++) {
      try {
        const recovered = await Promise.all(inPartition().map((schedule) => recover(schedule)));
        if (gen !== generation || stopping) return;
        // Changes read meanwhile are the latest state; schedules created meanwhile have not fired yet.
        for (const f of recovered) firing.set(f.state.id, f);
        for (const schedule of inPartition()) {
          const f = firing.get(schedule.id);
          if (f) f.update(schedule);
          else firing.set(schedule.id, new FiringSchedule(schedule, Date.parse(schedule.firesFrom), null, options));
        }
        ready.add(partition);
        for (const schedule of inPartition()) firing.get(schedule.id)!.wake();
        logger.info('schedules firing', { partition, schedules: recovered.length });
        return;
      } catch (err) {
        logger.warn('could not find where the fires of schedules got to; trying again', { partition, err });
        await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, RETRY_MAX_MS)));
      }
    }
  }

  /** Where a schedule's fires got to, from the jobs of its latest due fire times, looked up latest first. */
  async function recover(schedule: Schedule): Promise<FiringSchedule> {
    const made: number[] = [];
    if (schedule.status === 'active') {
      for (const step of recoverySteps(recoveryCandidates(schedule, Date.now()))) {
        const found = await options.lookup(step.map((t) => scheduledJobId(schedule.id, t)));
        made.push(...step.filter((t) => found.has(scheduledJobId(schedule.id, t))));
        if (made.length > 0) break;
      }
    }
    const progress = recoverFireProgress(schedule, made);
    return new FiringSchedule(schedule, progress.decidedThrough, progress.lastFireAt, options);
  }

  function apply(partition: number, offset: number, value: Buffer | null) {
    const decoded = decodeScheduleEvent(value);
    if (!decoded.ok) {
      logger.warn('undecodable schedule event; skipping', { partition, offset, reason: decoded.reason });
      return;
    }
    const event = decoded.event;
    const known = states.get(event.scheduleId);
    const next = evolveSchedule(known?.schedule ?? null, event);
    if (!next || next === known?.schedule) return;
    states.set(event.scheduleId, { partition, schedule: next });
    if (!ready.has(partition)) return;
    const f = firing.get(next.id);
    if (f) return f.update(next);
    // Created after the partition was read: nothing of it can have fired yet.
    const created = new FiringSchedule(next, Date.parse(next.firesFrom), null, options);
    firing.set(next.id, created);
    created.wake();
  }

  return {
    get firing() {
      return firing.size;
    },
    async start() {
      await Promise.all([consumer.connect(), admin.connect()]);
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const gen = generation;
          for (const message of batch.messages) {
            if (!isRunning() || isStale() || gen !== generation) break;
            const offset = Number(message.offset);
            apply(batch.partition, offset, message.value);
            resolveOffset(message.offset);
            const end = catchUpEnds.get(batch.partition);
            if (end !== undefined && offset + 1 >= end) {
              void partitionRead(gen, batch.partition);
            }
          }
          await heartbeat();
        },
      });
    },
    async stop() {
      stopping = true;
      generation += 1;
      await Promise.all([...firing.values()].map((f) => f.stop()));
      await Promise.all([consumer.disconnect(), admin.disconnect()]);
    },
  };
}
