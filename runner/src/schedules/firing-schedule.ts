import {
  decideOverlap,
  fireRequest,
  planDueFires,
  previousFireRunning,
  scheduledJobId,
  type Job,
  type JobEvent,
  type Logger,
  type Schedule,
} from '@jobline/libs';

export interface FiringDeps {
  /** Appends the fires' `JobRequested` events to the job log; resolves once Kafka acknowledged them (acks=-1). */
  publish: (events: JobEvent[]) => Promise<void>;
  /** The projection's view of jobs, by id; jobs it does not hold yet are absent. */
  lookup: (jobIds: readonly string[]) => Promise<Map<string, Job>>;
  logger: Logger;
  /** Told of each fire made: when it was due and when Kafka acknowledged its job. */
  fired?: (fireAt: number, acknowledgedAt: number) => void;
}

/** Longest a timer is set for; a later fire is looked at again then (timers overflow past 24.8 days). */
const MAX_TIMER_MS = 3_600_000;
/** How often a fire buffered behind a running job looks at that job again. */
const BUFFER_POLL_MS = 500;
/** After a failed firing (Kafka away), the wait before trying again. */
const RETRY_MS = 1000;

/**
 * One schedule held by this runner: its latest state, how far its fires got, and the timer of its next fire. A firing
 * plans the due fires (catch-up policy), weighs each against the previous fire's job (overlap policy), publishes the
 * `JobRequested` of each made fire, and only then records them as decided and sets the next timer. Firings of one
 * schedule never overlap: a wake-up during one is carried out after it, on the state as it is then.
 */
export class FiringSchedule {
  private timer: NodeJS.Timeout | null = null;
  private firing: Promise<void> | null = null;
  private wakeAgain = false;
  private stopped = false;
  /** A fire held back until the previous fire's job has finished (overlap `bufferOne`). */
  private buffered: number | null = null;

  constructor(
    private schedule: Schedule,
    /** Every fire time up to here is decided (made or dropped). */
    private decidedThrough: number,
    /** The latest fire made, whose job an overlap policy waits for. */
    private lastFireAt: number | null,
    private readonly deps: FiringDeps,
  ) {}

  get state(): Schedule {
    return this.schedule;
  }

  /** Takes the schedule's latest state (a change read from the log) and fires or re-arms by it. */
  update(schedule: Schedule): void {
    if (schedule.revision === this.schedule.revision) return;
    // Fires up to a new trigger, a resumption or new dates are not this definition's: they are not caught up on.
    this.decidedThrough = Math.max(this.decidedThrough, Date.parse(schedule.firesFrom));
    if (schedule.status !== 'active') this.buffered = null;
    this.schedule = schedule;
    this.wake();
  }

  /** Fires what is due now and sets the timer of the next fire. */
  wake(): void {
    if (this.stopped) return;
    if (this.firing) {
      this.wakeAgain = true;
      return;
    }
    this.clearTimer();
    this.firing = this.fire()
      .catch((err: unknown) => {
        this.deps.logger.error('schedule firing failed; trying again', { scheduleId: this.schedule.id, err });
        this.arm(Date.now() + RETRY_MS);
      })
      .finally(() => {
        this.firing = null;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wake();
        }
      });
  }

  /** Stops firing; resolves once a firing under way has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    await this.firing;
  }

  private async fire(): Promise<void> {
    const schedule = this.schedule;
    const now = Date.now();
    const plan = planDueFires(schedule, this.decidedThrough, now);
    if (plan.dropped > 0) {
      this.deps.logger.warn('missed fires dropped by the catch-up policy', {
        scheduleId: schedule.id,
        catchUp: schedule.catchUp,
        dropped: plan.moreDropped ? `${plan.dropped} or more` : plan.dropped,
      });
    }
    const candidates = this.buffered === null ? plan.fire : [this.buffered, ...plan.fire];
    const made: number[] = [];
    let buffered: number | null = null;
    if (candidates.length > 0) {
      let running = schedule.overlap !== 'allow' && (await this.previousRunning());
      for (const fireAt of candidates) {
        const decision = decideOverlap(schedule.overlap, running, buffered !== null);
        if (decision === 'fire') {
          made.push(fireAt);
          running = true;
        } else if (decision === 'buffer') {
          buffered = fireAt;
        } else {
          this.deps.logger.info('fire skipped: the previous fire’s job is still running', {
            scheduleId: schedule.id,
            fireAt: new Date(fireAt).toISOString(),
            overlap: schedule.overlap,
          });
        }
      }
    }
    // Decide on fresh state: a change read while the projection was asked (a pause, a deletion, a new trigger) wins.
    if (this.stopped || this.schedule !== schedule) {
      this.wakeAgain = !this.stopped;
      return;
    }
    if (made.length > 0) {
      const at = new Date();
      await this.deps.publish(made.map((fireAt) => fireRequest(schedule, fireAt, at)));
      const acknowledged = Date.now();
      for (const fireAt of made) this.deps.fired?.(fireAt, acknowledged);
      this.lastFireAt = made.at(-1)!;
    }
    this.buffered = buffered;
    this.decidedThrough = Math.max(this.decidedThrough, plan.decidedThrough);
    const next = plan.nextFireAt ?? Infinity;
    this.arm(this.buffered === null ? next : Math.min(next, Date.now() + BUFFER_POLL_MS));
  }

  /** Whether the latest fire's job still runs, as the projection has it (not there yet: it does). */
  private async previousRunning(): Promise<boolean> {
    if (this.lastFireAt === null) return false;
    const id = scheduledJobId(this.schedule.id, this.lastFireAt);
    const job = (await this.deps.lookup([id])).get(id);
    return previousFireRunning(job?.status ?? null);
  }

  private arm(at: number): void {
    this.clearTimer();
    if (this.stopped || !Number.isFinite(at)) return;
    const delay = Math.min(Math.max(at - Date.now(), 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wake();
    }, delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
