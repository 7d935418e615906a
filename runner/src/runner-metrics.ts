import { Counter, DURATION_BUCKETS, Gauge, Histogram, type Registry } from '@jobline/libs';

export type AttemptOutcome = 'completed' | 'failed' | 'cancelled';

export interface RunnerMetrics {
  /**
   * One attempt's outcome, once it is in Kafka; `finished` is the job's terminal status when the attempt ended the
   * job, null when a retry follows.
   */
  attemptRecorded(type: string, outcome: AttemptOutcome, seconds: number, finished: AttemptOutcome | null): void;
}

export interface RunnerGauges {
  /** Attempts whose handler runs now. */
  running: () => number;
  concurrency: number;
  /** Jobs due within the smallest delay tier, waiting in memory for their time. */
  waiting: () => number;
  /** Jobs due now, waiting for a slot (behind others, over a limit, or paused). */
  queued: () => number;
}

export function createRunnerMetrics(registry: Registry, gauges: RunnerGauges): RunnerMetrics {
  const finished = new Counter({
    name: 'jobline_runner_jobs_finished_total',
    help: 'Jobs this runner brought to a terminal status, by type and status',
    labelNames: ['type', 'status'],
    registers: [registry],
  });
  const handlerDuration = new Histogram({
    name: 'jobline_runner_handler_duration_seconds',
    help: 'Handler run time per attempt, by type and outcome (the count is the number of attempts)',
    labelNames: ['type', 'outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: 'jobline_runner_jobs_running',
    help: 'Attempts running now; compare with jobline_runner_concurrency_limit',
    registers: [registry],
    collect() {
      this.set(gauges.running());
    },
  });
  new Gauge({
    name: 'jobline_runner_concurrency_limit',
    help: 'Jobs this runner executes at once at most (RUNNER_CONCURRENCY)',
    registers: [registry],
  }).set(gauges.concurrency);
  new Gauge({
    name: 'jobline_runner_jobs_waiting',
    help: 'Jobs due soon, waiting in memory for their time',
    registers: [registry],
    collect() {
      this.set(gauges.waiting());
    },
  });

  new Gauge({
    name: 'jobline_runner_jobs_queued',
    help: 'Jobs due now, waiting for a slot: behind others, over their type or tenant limit, or paused',
    registers: [registry],
    collect() {
      this.set(gauges.queued());
    },
  });

  return {
    attemptRecorded(type, outcome, seconds, status) {
      handlerDuration.observe({ type, outcome }, seconds);
      if (status) finished.inc({ type, status });
    },
  };
}
