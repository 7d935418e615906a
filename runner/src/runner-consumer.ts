import { setTimeout as sleep } from 'node:timers/promises';
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
  type Logger,
  type TimerMessage,
  type TopicNames,
} from '@jobline/libs';
import { executeAttempt, publishUntilAcknowledged, WorkAbandoned, type ExecuteJobDeps } from './execute-job';
import { OffsetTracker } from './offset-tracker';
import { planAttempt, timerStillWanted } from './plan-attempt';
import { Semaphore } from './semaphore';

export interface RunnerConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** Kafka group session timeout: how soon a crashed runner's partitions (and the timers in them) move on. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  topics: TopicNames;
  concurrency: number;
  /** Lower limits for some job types, by type. */
  typeConcurrency?: Readonly<Record<string, number>>;
  execute: Omit<ExecuteJobDeps, 'stopSignal' | 'running' | 'deadLetter'>;
  /** The projection's view of jobs (MongoDB), by id; jobs it does not hold yet are absent. */
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
}

const HEARTBEAT_MS = 3000;

/**
 * The runner's consumer loop over the event log and the delay topics (see `scheduling/delay-tiers.ts` in libs).
 *
 * From the log it takes `JobRequested` and `JobRetryRequested`: the job's latest known state (the projection, else the
 * event itself) decides which attempt runs and when. A job due now runs at once; one due within the smallest tier
 * waits in memory; a later one becomes a timer in a delay topic. A failed attempt with a retry left goes the same way.
 *
 * Jobs of one batch run concurrently up to the concurrency limit and may finish out of order; the committed offset
 * only advances over messages whose consequences (outcome events, dead letters, timers) Kafka has acknowledged, so a
 * crash loses nothing: what was not finished is delivered again (at-least-once execution).
 */
export function createRunnerConsumer(options: RunnerConsumerOptions): RunnerConsumer {
  const { kafka, topics, logger } = options;
  const consumer: Consumer = kafka.consumer({
    groupId: options.groupId,
    maxWaitTimeInMs: 250,
    ...groupTimeouts(options.sessionTimeoutMs),
  });
  const slots = new Semaphore(options.concurrency);
  const typeSlots = new Map(Object.entries(options.typeConcurrency ?? {}).map(([type, n]) => [type, new Semaphore(n)]));
  /** Aborted when the runner stops: jobs not yet running (waiting for their time or a slot) are left for redelivery. */
  const drain = new AbortController();
  /** Aborted when the grace period is over: running jobs are abandoned too. */
  const stop = new AbortController();
  let stopping = false;
  const running = new Map<string, AbortController>();
  const tiers = topics.delays.map((d) => d.tierMs);
  const tierOf = new Map(topics.delays.map((d) => [d.topic, d]));
  const holds = new Set<NodeJS.Timeout>();
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
  async function carryOut(job: Job, attempt: number, dueAt: number): Promise<void> {
    for (;;) {
      const route = routeTimer(dueAt, Date.now(), tiers);
      if (route.kind === 'delay') return setTimer({ job, attempt, dueAt: new Date(dueAt).toISOString() }, route.tierMs);
      if (route.kind === 'wait') {
        logger.debug('job waits in memory for its time', { jobId: job.id, attempt, ms: route.ms });
        await sleep(route.ms, undefined, { signal: drain.signal }).catch(() => {
          throw new WorkAbandoned(job.id);
        });
        // Timers may fire a little early, and the job may have been cancelled meanwhile: look again.
        const check = timerStillWanted(attempt, (await options.lookup([job.id])).get(job.id) ?? null);
        if (!check.wanted) {
          logger.debug('waited for a job that no longer wants to run', { jobId: job.id, reason: check.reason });
          return;
        }
        continue;
      }
      // The type's own slot first, so that a job waiting for it holds no slot other types could use.
      const typeSlot = typeSlots.get(job.type);
      await typeSlot?.acquire();
      let outcome;
      try {
        await slots.acquire();
        try {
          if (stopping) throw new WorkAbandoned(job.id);
          outcome = await executeAttempt(job, attempt, deps);
        } finally {
          slots.release();
        }
      } finally {
        typeSlot?.release();
      }
      if (!outcome.retryAt) return;
      job = outcome.job;
      attempt += 1;
      dueAt = Date.parse(outcome.retryAt);
    }
  }

  const reportFailure = (jobId: string) => (err: unknown) => {
    if (!(err instanceof WorkAbandoned)) logger.error('job execution failed', { jobId, err: String(err) });
  };

  /** The state a log event leaves the job in, starting from the projection where it has the job. */
  function stateAfter(event: JobEvent, projected: Job | undefined): Job | null {
    if (event.type === 'JobRequested') return projected ?? evolve(null, event);
    return projected ? evolve(projected, event) : null;
  }

  return {
    get inFlight() {
      return running.size;
    },
    cancel(jobId) {
      const attempt = running.get(jobId);
      attempt?.abort();
      return attempt !== undefined;
    },
    async start() {
      await consumer.connect();
      await consumer.subscribe({ topics: [topics.events, ...topics.delays.map((d) => d.topic)], fromBeginning: true });
      await consumer.run({
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.min(options.concurrency, 32)),
        eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale, pause }) => {
          const tracker = new OffsetTracker();
          const runs: Promise<void>[] = [];
          const beat = setInterval(() => void heartbeat().catch(() => undefined), HEARTBEAT_MS);
          const done = (offset: number) => {
            const committable = tracker.complete(offset);
            if (committable !== null) resolveOffset(String(committable));
          };
          const go = (offset: number, jobId: string, work: Promise<void>) =>
            runs.push(work.then(() => done(offset), reportFailure(jobId)));
          try {
            const delay = tierOf.get(batch.topic);
            const work: { offset: number; jobId: string; start: (projected: Job | undefined) => void }[] = [];
            for (const message of batch.messages) {
              if (!isRunning() || isStale() || stopping) break;
              const offset = Number(message.offset);
              if (delay) {
                const decoded = decodeTimer(message.value);
                if (!decoded.ok) {
                  logger.warn('unreadable timer; skipping', { topic: batch.topic, offset, reason: decoded.reason });
                  tracker.track(offset);
                  done(offset);
                  continue;
                }
                const timer = decoded.timer;
                const ripeAt = Date.parse(timer.enqueuedAt) + delay.tierMs;
                if (ripeAt > Date.now()) {
                  // The head of a tier partition is not ripe, so nothing behind it is: hold the partition until then.
                  const resume = pause();
                  consumer.seek({ topic: batch.topic, partition: batch.partition, offset: message.offset });
                  const hold = setTimeout(() => {
                    holds.delete(hold);
                    resume();
                  }, ripeAt - Date.now());
                  holds.add(hold);
                  break;
                }
                tracker.track(offset);
                work.push({
                  offset,
                  jobId: timer.job.id,
                  start: (projected) => {
                    const check = timerStillWanted(timer.attempt, projected ?? null);
                    if (!check.wanted) {
                      logger.debug('timer no longer wanted', { jobId: timer.job.id, reason: check.reason });
                      return done(offset);
                    }
                    go(offset, timer.job.id, carryOut(timer.job, timer.attempt, Date.parse(timer.dueAt)));
                  },
                });
                continue;
              }
              tracker.track(offset);
              const decoded = decodeEvent(message.value);
              if (!decoded.ok) {
                // The persister quarantines it; the runner has nothing to run and moves on.
                logger.warn('undecodable event; skipping', {
                  partition: batch.partition,
                  offset,
                  reason: decoded.reason,
                });
              }
              if (
                !decoded.ok ||
                (decoded.event.type !== 'JobRequested' && decoded.event.type !== 'JobRetryRequested')
              ) {
                done(offset);
                continue;
              }
              const event = decoded.event;
              work.push({
                offset,
                jobId: event.jobId,
                start: (projected) => {
                  const state = stateAfter(event, projected);
                  const plan = state
                    ? planAttempt(state, Date.now())
                    : { kind: 'skip' as const, reason: 'unknown job' };
                  if (plan.kind === 'skip') {
                    logger.debug('nothing to run', { jobId: event.jobId, event: event.type, reason: plan.reason });
                    return done(offset);
                  }
                  go(offset, event.jobId, carryOut(plan.job, plan.attempt, plan.dueAt));
                },
              });
            }
            if (work.length > 0) {
              const projected = await options.lookup([...new Set(work.map((w) => w.jobId))]);
              for (const w of work) w.start(projected.get(w.jobId));
            }
            await Promise.all(runs);
            await commitOffsetsIfNecessary();
          } finally {
            clearInterval(beat);
          }
        },
      });
    },
    async stop(graceMs) {
      stopping = true;
      drain.abort();
      const timer = setTimeout(() => stop.abort(), graceMs);
      try {
        await consumer.disconnect();
      } finally {
        clearTimeout(timer);
        for (const hold of holds) clearTimeout(hold);
      }
    },
  };
}
