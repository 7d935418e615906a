import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import DataLoader from 'dataloader';
import type { Consumer, Kafka, Message } from 'kafkajs';
import {
  decodeEvent,
  decodeTimer,
  encodeDeadLetter,
  encodeTimer,
  evolve,
  groupTimeouts,
  routeTimer,
  type Job,
  type JobEvent,
  type JobEventOf,
  type Logger,
  type TimerMessage,
  type TopicNames,
} from '@jobline/libs';
import { executeAttempt, publishUntilAcknowledged, WorkAbandoned, type ExecuteJobDeps } from './execute-job';
import { OffsetCommitter } from './offset-committer';
import { OffsetTracker } from './offset-tracker';
import { JobStates } from './job-states';
import { NOTHING_PAUSED, type PauseState } from './pause-state';
import { attemptAskedBy, attemptStillWanted, planAttempt } from './plan-attempt';
import { TicketWithdrawn, WorkScheduler } from './work-scheduler';
import { TimedWaits } from './timed-waits';

export interface RunnerConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** Kafka group session timeout: how soon a crashed runner's partitions (and the timers in them) move on. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  topics: TopicNames;
  concurrency: number;
  /**
   * Most messages whose work may be under way at once (running, or waiting for their time or for a slot); batches wait
   * beyond it. This is how far past a backlog the runner reads, to find higher-priority jobs and other tenants' jobs
   * behind it. @defaultValue max(100000, 8 × concurrency)
   */
  maxPending?: number;
  /** Lower limits for some job types, by type. */
  typeConcurrency?: Readonly<Record<string, number>>;
  /** Jobs of one tenant running at once in this process, unless the tenant has its own limit. @defaultValue concurrency */
  tenantConcurrency?: number;
  /** Limits of some tenants, by tenant id. */
  tenantConcurrencyOverrides?: Readonly<Record<string, number>>;
  /** Which tenants and job types are paused: their jobs wait without a slot until resumed. @defaultValue none */
  paused?: PauseState;
  execute: Omit<ExecuteJobDeps, 'stopSignal' | 'running' | 'deadLetter'>;
  /**
   * The projection's view of jobs (MongoDB), by id; jobs it does not hold yet are absent. Asked only where the log this
   * runner reads cannot tell: while it catches up after taking over a partition, and for timers and redrives of jobs
   * whose history it has not read.
   */
  lookup: (jobIds: readonly string[]) => Promise<Map<string, Job>>;
  /** Sends messages to a topic other than the event log (timers, dead letters), with acks=-1. */
  send: (topic: string, messages: Message[]) => Promise<void>;
  logger: Logger;
}

export interface RunnerConsumer {
  start(): Promise<void>;
  /** Stops taking work, waits up to `graceMs` for running jobs, abandons the rest (they are redelivered). */
  stop(graceMs: number): Promise<void>;
  /** Aborts the running attempt of a job whose cancellation was requested; false when this runner doesn't hold it. */
  cancel(jobId: string): boolean;
  readonly inFlight: number;
  /** Jobs due within the smallest delay tier, waiting in memory for their time. */
  readonly waiting: number;
  /** Jobs due now, waiting for a slot (behind others, over a limit, or paused). */
  readonly queued: number;
  /** Replaces the limits of some tenants (`tenantConcurrencyOverrides`); applied at once. */
  setTenantLimits(overrides: Readonly<Record<string, number>>): void;
}

const HEARTBEAT_MS = 3000;
const RETRY_MAX_MS = 30_000;
/** Offsets one partition may have in progress before it is paused (a long job at its head holds all behind it). */
const MAX_TRACKED_PER_PARTITION = 100_000;
/** After the grace period, how long a stop waits for abandoned work to let go before it commits and leaves anyway. */
const STOP_HARD_LIMIT_MS = 5000;
const MAX_REMEMBERED_STARTS = 10_000;

/** The messages that ask a runner for work on a job. */
type WorkEvent = JobEventOf<'JobRequested'> | JobEventOf<'JobRetryRequested'>;

/**
 * The runner's consumer loop over the event log and the delay topics (see `scheduling/delay-tiers.ts` in libs).
 *
 * It folds every event of its partitions into the jobs' latest states (`JobStates`), and decides from them: a
 * `JobRequested` or `JobRetryRequested` starts the attempt the state calls for. A job due now runs at once; one due
 * within the smallest tier waits in memory; a later one becomes a timer in a delay topic. A failed attempt with a retry
 * left goes the same way. Whatever waited (for its time, or for a slot) looks at the job's latest state again before it
 * starts, so a job cancelled meanwhile never starts. The projection is asked only where the log read here cannot tell:
 * while a partition is caught up after this process took it over (events further on may already have finished the
 * job), and for jobs whose history this process has not read.
 *
 * A batch only starts its work and returns, so that a job that runs or waits long never holds up the fetching of
 * other partitions (kafkajs fetches again only once every batch of its last fetch is handled). Work finishes out of
 * order; per partition, the committed offset only advances over messages whose consequences (outcome events, dead
 * letters, timers) Kafka has acknowledged, so a crash loses nothing: what was not finished is delivered again
 * (at-least-once execution). A message for a job this process is already working on joins that work instead of
 * starting it twice, which is what a rebalance that keeps a partition here redelivers. Work that fails (MongoDB away,
 * say) is tried again with backoff; when more work is under way than `maxPending`, batches wait for some to finish.
 */
export function createRunnerConsumer(options: RunnerConsumerOptions): RunnerConsumer {
  const { kafka, topics, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 250,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  const slots = new WorkScheduler(
    {
      concurrency: options.concurrency,
      typeConcurrency: options.typeConcurrency,
      tenantConcurrency: options.tenantConcurrency,
      tenantConcurrencyOverrides: options.tenantConcurrencyOverrides,
    },
    options.paused ?? NOTHING_PAUSED,
  );
  const maxPending = options.maxPending ?? Math.max(100_000, options.concurrency * 8);
  /**
   * Waits in memory (for a job's time, or before trying work again). When the runner stops, they end at once, as do
   * the waits for a slot (`slots.close()`): jobs not yet running are left for redelivery.
   */
  const timed = new TimedWaits();
  /** Aborted when the grace period is over: running jobs are abandoned too. */
  const stop = new AbortController();
  // Every running job listens to it.
  setMaxListeners(0, stop.signal);
  let stopping = false;
  let waiting = 0;
  const running = new Map<string, AbortController>();
  const tiers = topics.delays.map((d) => d.tierMs);
  const tierOf = new Map(topics.delays.map((d) => [d.topic, d]));
  const holds = new Set<NodeJS.Timeout>();
  /** Work under way in this process, by job id, with the message that started it (`topic:partition:offset`). */
  const working = new Map<string, { origin: string; done: Promise<void> }>();
  /** Partitions paused until work under way drops below `maxPending` or their own backlog shrinks, by `topic:partition`. */
  const pausedForCapacity = new Map<string, () => void>();
  /** Offsets in progress per partition of the current assignment, by `topic:partition`. */
  let trackers = new Map<string, OffsetTracker>();
  const commits = new OffsetCommitter((offsets) => consumer.commitOffsets(offsets), logger);
  const states = new JobStates();
  /** Attempts this process started (`jobId:attempt`), the latest ten thousand: none of them starts here again. */
  const startedHere = new Set<string>();
  /**
   * Per event partition, the log end when this process joined the group: before it, it catches up. Null until known
   * (everything counts as catching up meanwhile).
   */
  let catchUpUntil: Map<number, number> | null = null;
  const admin = kafka.admin();
  /** The projection's view of single jobs, batched into one query per tick. */
  const projection = new DataLoader<string, Job | null>(
    async (ids) => {
      const found = await options.lookup(ids);
      return ids.map((id) => found.get(id) ?? null);
    },
    { cache: false, maxBatchSize: 500 },
  );
  const deps: ExecuteJobDeps = {
    ...options.execute,
    stopSignal: stop.signal,
    running,
    deadLetter: (letter) => options.send(topics.dlq, [encodeDeadLetter(letter)]),
  };

  /** Writes a timer into the delay topic of its tier. */
  async function setTimer(timer: Omit<TimerMessage, 'enqueuedAt'>, tierMs: number) {
    const topic = topics.delays.find((d) => d.tierMs === tierMs)!.topic;
    const message = encodeTimer({ ...timer, enqueuedAt: new Date().toISOString() });
    await publishUntilAcknowledged(() => options.send(topic, [message]), stop.signal, logger, timer.job.id);
  }

  /**
   * Brings attempt `attempt` of `job` about, and the retries that follow it, until the job is finished or its next
   * attempt is handed to a delay topic. Resolves once all of it is acknowledged by Kafka.
   */
  async function carryOut(job: Job, attempt: number, dueAt: number, rerun: boolean, askedBy?: JobEvent): Promise<void> {
    for (; ; rerun = false, askedBy = undefined) {
      const route = routeTimer(dueAt, Date.now(), tiers);
      if (route.kind === 'delay') return setTimer({ job, attempt, dueAt: new Date(dueAt).toISOString() }, route.tierMs);
      if (route.kind === 'wait') {
        logger.debug('job waits in memory for its time', { jobId: job.id, attempt, ms: route.ms });
        waiting += 1;
        await timed
          .wait(route.ms)
          .catch(() => {
            throw new WorkAbandoned(job.id);
          })
          .finally(() => (waiting -= 1));
        // Timers may fire a little early, and the job may have been cancelled meanwhile: look again.
        if (!(await stillWanted(job.id, attempt, rerun, askedBy))) return;
        continue;
      }
      // Priority, fair sharing between tenants, limits and pauses decide when it gets a slot (`work-scheduler.ts`).
      const release = await slots
        .acquire({ tenantId: job.tenantId, type: job.type, priority: job.priority })
        .catch((err: unknown) => {
          throw err instanceof TicketWithdrawn ? new WorkAbandoned(job.id) : err;
        });
      let outcome;
      try {
        if (stopping) throw new WorkAbandoned(job.id);
        // The wait for a slot may have been long: the job may have been cancelled or run elsewhere meanwhile.
        if (!(await stillWanted(job.id, attempt, rerun, askedBy))) return;
        rememberStarted(job.id, attempt);
        outcome = await executeAttempt(job, attempt, deps);
      } finally {
        release();
      }
      if (!outcome.retryAt) return;
      job = outcome.job;
      attempt += 1;
      dueAt = Date.parse(outcome.retryAt);
    }
  }

  /**
   * The job's latest state: as read from the log here, else as the projection has it (null: nowhere yet), with the
   * message that asked for the work applied, which the persister may not have folded yet (applying an event the
   * projection holds already changes nothing).
   */
  async function latest(jobId: string, askedBy?: JobEvent): Promise<Job | null> {
    const known = states.get(jobId);
    if (known) return known;
    const projected = await projection.load(jobId);
    return projected && askedBy ? evolve(projected, askedBy) : projected;
  }

  function rememberStarted(jobId: string, attempt: number) {
    startedHere.add(`${jobId}:${attempt}`);
    if (startedHere.size > MAX_REMEMBERED_STARTS) startedHere.delete(startedHere.values().next().value!);
  }

  async function stillWanted(jobId: string, attempt: number, rerun: boolean, askedBy?: JobEvent): Promise<boolean> {
    // A second request for an attempt this process started (a request published twice, a redrive asked twice) finds
    // it here, even before the start it recorded comes back through the log.
    const check = startedHere.has(`${jobId}:${attempt}`)
      ? { wanted: false, reason: `attempt ${attempt} already started here` }
      : attemptStillWanted(attempt, await latest(jobId, askedBy), rerun);
    if (!check.wanted) logger.debug('attempt no longer wanted', { jobId, attempt, reason: check.reason });
    return check.wanted;
  }

  /**
   * What a `JobRequested` or `JobRetryRequested` asks of the runner, given the state the log read here gives the job
   * (`undefined`: its history began before what this process read). While catching up, the projection may know more:
   * the job's later events, not read here yet, may have finished it.
   */
  async function workForEvent(event: WorkEvent, known: Job | undefined, catchingUp: boolean): Promise<void> {
    let state: Job | null = known ?? null;
    if (catchingUp || known === undefined) {
      const projected = await projection.load(event.jobId);
      if (projected) state = event.type === 'JobRequested' ? projected : evolve(projected, event);
    }
    const plan = state
      ? planAttempt(state, Date.now(), attemptAskedBy(event, state))
      : { kind: 'skip' as const, reason: 'unknown job' };
    if (plan.kind === 'skip') {
      logger.debug('nothing to run', { jobId: event.jobId, event: event.type, reason: plan.reason });
      return;
    }
    // Asked by the log, the attempt may start even when a start of it is recorded: the runner that recorded it held
    // this partition before and stopped without an outcome (execution is at-least-once).
    await carryOut(plan.job, plan.attempt, plan.dueAt, true, event);
  }

  async function workForTimer(timer: TimerMessage): Promise<void> {
    if (!(await stillWanted(timer.job.id, timer.attempt, false))) return;
    await carryOut(timer.job, timer.attempt, Date.parse(timer.dueAt), false);
  }

  /** Runs `work` until it succeeds; a failure other than the runner stopping is tried again with backoff. */
  async function persist(jobId: string, work: () => Promise<void>): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        return await work();
      } catch (err) {
        if (err instanceof WorkAbandoned || stopping) throw err;
        const delay = Math.min(250 * 2 ** failures, RETRY_MAX_MS);
        logger.error('job work failed; trying again', { jobId, failures, delay, err: String(err) });
        await timed.wait(delay).catch(() => {
          throw new WorkAbandoned(jobId);
        });
      }
    }
  }

  /** Marks a message's work done; commits past it once everything before it in its partition is done too. */
  function complete(key: string, tracker: OffsetTracker, topic: string, partition: number, offset: number) {
    const committable = tracker.complete(offset);
    if (tracker.size < MAX_TRACKED_PER_PARTITION / 2) resumeForCapacity(key);
    if (committable === null || trackers.get(key) !== tracker) return;
    commits.markReady({ topic, partition, offset: String(committable + 1) });
  }

  /** Starts (or joins) the work of one message and tracks its offset until that work is done. */
  function take(topic: string, partition: number, offset: number, jobId: string, work: (() => Promise<void>) | null) {
    const key = `${topic}:${partition}`;
    let tracker = trackers.get(key);
    if (!tracker) trackers.set(key, (tracker = new OffsetTracker()));
    tracker.track(offset);
    const finish = () => complete(key, tracker, topic, partition, offset);
    if (!work) return finish();
    const origin = `${key}:${offset}`;
    const existing = working.get(jobId);
    // The same message again (a rebalance redelivers what is under way) joins its work. Another message of the job
    // runs after the work under way, so that each is carried out.
    const done =
      existing?.origin === origin
        ? existing.done
        : existing
          ? existing.done.catch(() => undefined).then(() => persist(jobId, work))
          : persist(jobId, work);
    if (existing?.origin !== origin) {
      const entry = { origin, done };
      working.set(jobId, entry);
      void done
        .catch(() => undefined)
        .finally(() => {
          if (working.get(jobId) === entry) working.delete(jobId);
          if (working.size < maxPending) resumeForCapacity();
        });
    }
    done.then(finish, () => undefined);
  }

  /** Resumes one partition paused for its backlog, or (without a key) all paused for work under way. */
  function resumeForCapacity(key?: string) {
    if (stopping) return;
    for (const [paused, resume] of pausedForCapacity) {
      if (key !== undefined && paused !== key) continue;
      pausedForCapacity.delete(paused);
      resume();
    }
  }

  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    // kafkajs resumes each partition from its committed offset: track it afresh. Work still under way here is joined
    // by its redelivered message; the outcomes of partitions that moved elsewhere are not committed from here.
    trackers = new Map();
    commits.reset();
    states.retainPartitions(e.payload.memberAssignment[topics.events] ?? []);
    catchUpUntil = null;
    void findLogEnds(trackers);
  });

  /** Reads where the event log ends now, for the assignment of `generation`; tried again until known or replaced. */
  async function findLogEnds(generation: Map<string, OffsetTracker>) {
    for (let failures = 0; trackers === generation && !stopping; failures++) {
      try {
        const offsets = await admin.fetchTopicOffsets(topics.events);
        if (trackers === generation) catchUpUntil = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
        return;
      } catch (err) {
        logger.debug('could not read the log end; catching up from the projection meanwhile', { err });
        await sleep(Math.min(250 * 2 ** failures, RETRY_MAX_MS));
      }
    }
  }

  return {
    get inFlight() {
      return running.size;
    },
    get waiting() {
      return waiting;
    },
    get queued() {
      return slots.waiting;
    },
    setTenantLimits(overrides) {
      slots.setTenantLimits(overrides);
    },
    cancel(jobId) {
      const attempt = running.get(jobId);
      attempt?.abort();
      return attempt !== undefined;
    },
    async start() {
      await Promise.all([consumer.connect(), admin.connect()]);
      await consumer.subscribe({ topics: [topics.events, ...topics.delays.map((d) => d.topic)], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(options.concurrency, 32)),
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale, pause }) => {
          const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
          try {
            const delay = tierOf.get(batch.topic);
            const key = `${batch.topic}:${batch.partition}`;
            const catchUpEnd = catchUpUntil?.get(batch.partition) ?? Infinity;
            for (const message of batch.messages) {
              if (!isRunning() || isStale() || stopping) break;
              if (working.size >= maxPending || (trackers.get(key)?.size ?? 0) >= MAX_TRACKED_PER_PARTITION) {
                // Enough is under way: hold this partition (from this message on) until some of it is done.
                pausedForCapacity.set(key, pause());
                break;
              }
              const offset = Number(message.offset);
              if (delay) {
                const decoded = decodeTimer(message.value);
                if (!decoded.ok) {
                  logger.warn('unreadable timer; skipping', { topic: batch.topic, offset, reason: decoded.reason });
                  take(batch.topic, batch.partition, offset, '', null);
                  resolveOffset(message.offset);
                  continue;
                }
                const timer = decoded.timer;
                const ripeAt = Date.parse(timer.enqueuedAt) + delay.tierMs;
                if (ripeAt > Date.now()) {
                  // The head of a tier partition is not ripe, so nothing behind it is: hold the partition until then.
                  // Everything before it is resolved, so the next fetch starts at it.
                  const resume = pause();
                  const hold = setTimeout(() => {
                    holds.delete(hold);
                    resume();
                  }, ripeAt - Date.now());
                  holds.add(hold);
                  break;
                }
                take(batch.topic, batch.partition, offset, timer.job.id, workForTimer.bind(null, timer));
                resolveOffset(message.offset);
                continue;
              }
              const decoded = decodeEvent(message.value);
              if (!decoded.ok) {
                // The persister quarantines it; the runner has nothing to run and moves on.
                logger.warn('undecodable event; skipping', {
                  partition: batch.partition,
                  offset,
                  reason: decoded.reason,
                });
              }
              const event = decoded.ok ? decoded.event : null;
              // Folded here, in log order, so that work waiting elsewhere sees each job's latest state.
              const known = event ? states.apply(batch.partition, offset, event) : undefined;
              // The log is where a cancellation is sure to arrive; the Redis announcement only makes it sooner.
              const cancelled = event?.type === 'JobCancelRequested' ? running.get(event.jobId) : undefined;
              if (cancelled && !cancelled.signal.aborted) {
                logger.info('aborting a cancelled job', { jobId: event!.jobId });
                cancelled.abort();
              }
              const catchingUp = offset < catchUpEnd;
              // Bound, not a closure: work waiting for a slot must not keep this batch's scope (and its fetched
              // messages) alive.
              const work =
                event?.type === 'JobRequested' || event?.type === 'JobRetryRequested'
                  ? workForEvent.bind(null, event, known, catchingUp)
                  : null;
              take(batch.topic, batch.partition, offset, event?.jobId ?? '', work);
              resolveOffset(message.offset);
            }
          } finally {
            clearInterval(beat);
          }
        },
      });
    },
    async stop(graceMs) {
      stopping = true;
      timed.endAll();
      slots.close();
      pausedForCapacity.clear();
      consumer.pause([topics.events, ...topics.delays.map((d) => d.topic)].map((topic) => ({ topic })));
      for (const hold of holds) clearTimeout(hold);
      const timer = setTimeout(() => stop.abort(), graceMs);
      // Abandoned work lets go promptly, but a handler that ignores its signal must not keep the runner forever.
      const deadline = sleep(graceMs + STOP_HARD_LIMIT_MS, undefined, { ref: false });
      try {
        await Promise.race([Promise.allSettled([...working.values()].map((w) => w.done)), deadline]);
      } finally {
        clearTimeout(timer);
      }
      await commits.drain();
      await Promise.all([consumer.disconnect(), admin.disconnect()]);
    },
  };
}
