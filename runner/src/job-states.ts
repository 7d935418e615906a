import { evolve, isTerminal, type Job, type JobEvent } from '@jobline/libs';

interface Known {
  job: Job;
  partition: number;
  /** Offset of the last event applied to `job`. */
  offset: number;
}

/**
 * The latest state of the jobs of the event-log partitions this runner holds, folded with `evolve` from the events it
 * consumes. Every event of a job lands in the job's partition, in order, so the runner knows its jobs' states from
 * what it reads and need not ask the projection before each attempt.
 *
 * What it cannot know: jobs whose `JobRequested` came before the offset the runner resumed from (their history began
 * before this process read the partition). Those are `undefined` here, and the caller asks the projection.
 *
 * Finished jobs are kept as well, up to `maxFinished` of them (oldest forgotten first), so that a late or repeated
 * message about a finished job finds it finished instead of unknown.
 */
export class JobStates {
  private readonly jobs = new Map<string, Known>();
  /** Ids of finished jobs, oldest first; an id may appear again after a redrive finished the job a second time. */
  private finished: string[] = [];
  private finishedHead = 0;

  constructor(private readonly maxFinished = 20_000) {}

  /**
   * Applies an event read at `offset` of `partition`; returns the job's state after it, or `undefined` when the job is
   * unknown here (its history started before what this process read). An event at or before the last one applied
   * (a partition read again after a rebalance) changes nothing.
   */
  apply(partition: number, offset: number, event: JobEvent): Job | undefined {
    const known = this.jobs.get(event.jobId);
    if (known && known.partition === partition && offset <= known.offset) return known.job;
    const next = evolve(known?.job ?? null, event);
    if (!next) return undefined;
    const wasFinished = known !== undefined && isTerminal(known.job.status);
    this.jobs.set(event.jobId, { job: next, partition, offset });
    if (isTerminal(next.status) && !wasFinished) this.rememberFinished(event.jobId);
    return next;
  }

  /** The job's latest state as read from the log, or `undefined` when this process does not know it. */
  get(jobId: string): Job | undefined {
    return this.jobs.get(jobId)?.job;
  }

  /** Forgets the jobs of partitions this process no longer holds: their states move on elsewhere. */
  retainPartitions(partitions: readonly number[]): void {
    const kept = new Set(partitions);
    for (const [jobId, known] of this.jobs) if (!kept.has(known.partition)) this.jobs.delete(jobId);
  }

  /** Jobs known, finished ones included. */
  get size(): number {
    return this.jobs.size;
  }

  private rememberFinished(jobId: string): void {
    this.finished.push(jobId);
    while (this.finished.length - this.finishedHead > this.maxFinished) {
      const oldest = this.finished[this.finishedHead++]!;
      const known = this.jobs.get(oldest);
      // Only while still finished: a redrive may have made it live again (it is then queued once more when it ends).
      if (known && isTerminal(known.job.status)) this.jobs.delete(oldest);
    }
    if (this.finishedHead > 1024 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }
}
