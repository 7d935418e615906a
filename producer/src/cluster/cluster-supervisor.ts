import cluster, { type Worker } from 'node:cluster';
import { backoffDelayMs, Counter, Gauge, type Logger, type Registry } from '@jobline/libs';

/** How the primary restarts workers that die, and when it stops trying. */
export interface RestartPolicy {
  /** Nominal wait before the first restart of a worker slot; it doubles with each consecutive failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A slot whose workers exit this many times in a row before listening makes the primary give up and exit 1. */
  maxStartFailures: number;
  /** A worker that listened this long before dying starts its slot's backoff afresh. */
  stableAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxStartFailures: 3,
  stableAfterMs: 30_000,
};

/** A worker slot's recent failures: `failures` feeds the backoff, `startFailures` the decision to give up. */
export interface SlotHistory {
  failures: number;
  startFailures: number;
}

export type ExitDecision =
  { action: 'restart'; delayMs: number; history: SlotHistory } | { action: 'give-up'; history: SlotHistory };

/**
 * What to do when a slot's worker dies unexpectedly. `listenedForMs` is undefined when it never listened (it failed
 * at start: Kafka, MongoDB or Redis unreachable, bad settings), which a restart rarely cures, so those are bounded.
 * A worker that crashes after serving is always restarted, with a backoff that grows while it keeps crashing soon
 * after starting. `random` is a number in [0, 1) for the jitter.
 */
export function decideAfterExit(
  history: SlotHistory,
  listenedForMs: number | undefined,
  policy: RestartPolicy,
  random: number,
): ExitDecision {
  const stable = listenedForMs !== undefined && listenedForMs >= policy.stableAfterMs;
  const next: SlotHistory = {
    failures: stable ? 1 : history.failures + 1,
    startFailures: listenedForMs === undefined ? history.startFailures + 1 : 0,
  };
  if (next.startFailures >= policy.maxStartFailures) return { action: 'give-up', history: next };
  const delayMs = backoffDelayMs(
    next.failures,
    { type: 'exponential', delayMs: policy.baseDelayMs, maxDelayMs: policy.maxDelayMs },
    random,
  );
  return { action: 'restart', delayMs, history: next };
}

export interface SupervisorMetrics {
  workersListening: Gauge;
  workerRestarts: Counter;
}

export function createSupervisorMetrics(registry: Registry): SupervisorMetrics {
  return {
    workersListening: new Gauge({
      name: 'jobline_producer_workers_listening',
      help: 'Producer worker processes whose HTTP server is listening',
      registers: [registry],
    }),
    workerRestarts: new Counter({
      name: 'jobline_producer_worker_restarts_total',
      help: 'Producer workers restarted after dying unexpectedly',
      registers: [registry],
    }),
  };
}

export interface SupervisorOptions {
  workers: number;
  logger: Logger;
  policy?: RestartPolicy;
  /** How long workers get to drain after SIGTERM/SIGINT before they are killed. @defaultValue 30000 */
  stopTimeoutMs?: number;
  metrics?: SupervisorMetrics;
  /** Called once, when every slot has a listening worker for the first time. */
  onAllListening?: () => void;
  random?: () => number;
  now?: () => number;
}

export interface ClusterSupervisor {
  /** Forks the workers. */
  start(): void;
  /** Workers whose HTTP server listens, in slot order. */
  listeningWorkers(): Worker[];
  /** Asks every worker to drain (SIGTERM), for `reason` (the signal the primary got); resolves like `done`. */
  stop(reason: string): Promise<number>;
  /** The exit code for the primary: 0 when every worker drained after `stop`, 1 otherwise or on giving up. */
  readonly done: Promise<number>;
}

interface Slot {
  index: number;
  worker?: Worker;
  listeningSince?: number;
  history: SlotHistory;
  restartTimer?: NodeJS.Timeout;
}

/**
 * Once started, forks `workers` processes running this same entry point (`cluster.isWorker` tells them apart) and
 * keeps that many alive. Workers share the listening socket through the primary, which hands connections out
 * round-robin. Each worker keeps its own graceful shutdown: the primary only passes the signal on and waits.
 */
export function superviseWorkers(options: SupervisorOptions): ClusterSupervisor {
  const { logger, metrics } = options;
  const policy = options.policy ?? DEFAULT_RESTART_POLICY;
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    index,
    history: { failures: 0, startFailures: 0 },
  }));
  let stopping: { failed: boolean } | undefined;
  let allListened = false;
  let finish: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => (finish = resolve));

  // Left to the OS (SCHED_NONE), Linux wakes the same few busy workers for most connections.
  cluster.schedulingPolicy = cluster.SCHED_RR;

  const listening = () =>
    slots.flatMap((slot) => (slot.listeningSince !== undefined && slot.worker ? [slot.worker] : []));
  const live = () => slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
  const describe = (slot: Slot, worker: Worker) => ({ slot: slot.index, worker: worker.id, pid: worker.process.pid });

  const fork = (slot: Slot) => {
    slot.restartTimer = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.listeningSince = undefined;
    logger.info('producer worker started', describe(slot, worker));
    worker.on('error', (err: Error) =>
      logger.warn('producer worker channel failed', { ...describe(slot, worker), err: err.message }),
    );
    worker.once('listening', () => {
      slot.listeningSince = now();
      metrics?.workersListening.set(listening().length);
      logger.info('producer worker listening', describe(slot, worker));
      if (!allListened && slots.every((s) => s.listeningSince !== undefined)) {
        allListened = true;
        options.onAllListening?.();
      }
    });
    worker.once('exit', (code: number | null, signal: string | null) => {
      const listenedForMs = slot.listeningSince === undefined ? undefined : now() - slot.listeningSince;
      slot.worker = undefined;
      slot.listeningSince = undefined;
      metrics?.workersListening.set(listening().length);
      if (stopping) {
        if (code !== 0) stopping.failed = true;
        logger.info('producer worker stopped', { ...describe(slot, worker), code, signal });
        if (live().length === 0) finish(stopping.failed ? 1 : 0);
        return;
      }
      const decision = decideAfterExit(slot.history, listenedForMs, policy, random());
      slot.history = decision.history;
      const exit = { ...describe(slot, worker), code, signal, listened: listenedForMs !== undefined };
      if (decision.action === 'give-up') {
        logger.error('producer workers keep failing to start, giving up', {
          ...exit,
          startFailures: decision.history.startFailures,
        });
        void stop('workers keep failing to start', true);
        return;
      }
      logger.warn('producer worker exited', { ...exit, restartInMs: decision.delayMs });
      slot.restartTimer = setTimeout(() => {
        metrics?.workerRestarts.inc();
        fork(slot);
      }, decision.delayMs);
    });
  };

  const stop = (reason: string, failed = false): Promise<number> => {
    if (stopping) return done;
    stopping = { failed };
    for (const slot of slots) clearTimeout(slot.restartTimer);
    const workers = live();
    logger.info('stopping producer workers', { reason, workers: workers.map((w) => w.process.pid) });
    if (workers.length === 0) {
      finish(failed ? 1 : 0);
      return done;
    }
    // SIGTERM whatever the primary got: a worker drains the same way on either, and after Ctrl-C in a terminal the
    // workers have had the SIGINT themselves already. It goes to the process, not through `worker.kill()`, which
    // would first disconnect the worker and close its server behind the back of its own shutdown.
    for (const worker of workers) worker.process.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const worker of live()) {
        logger.error('producer worker did not stop in time, killing it', { pid: worker.process.pid, stopTimeoutMs });
        worker.process.kill('SIGKILL');
      }
    }, stopTimeoutMs);
    deadline.unref();
    return done;
  };

  return {
    start: () => slots.forEach(fork),
    listeningWorkers: listening,
    stop: (reason) => stop(reason),
    done,
  };
}
