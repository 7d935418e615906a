import { EVENT_SCHEMA_VERSION, type JobEventOf } from '../events/job-events';
import { isTerminal, type JobStatus } from '../jobs/job';
import { fireTimes, fireTimesUpTo } from './fire-times';
import type { OverlapPolicy } from './schedule-events';
import type { Schedule } from './schedule';
import { scheduledJobId, scheduledRequestEventId } from './schedule-job-id';

/** A fire found at most this late is on time; one found later was missed, and the catch-up policy decides about it. */
export const ON_TIME_GRACE_MS = 5_000;
/** Most on-time fires of one schedule made at once (a schedule firing every second, found 5 s late). */
const MAX_ON_TIME_FIRES = 10;

/** Metadata of a fired job: the schedule that made it and the fire time it stands for. */
export const SCHEDULE_METADATA_KEY = 'jobline-schedule';
export const FIRE_AT_METADATA_KEY = 'jobline-fire-at';

export interface FirePlan {
  /** The fire times to make now, earliest first. */
  fire: number[];
  /** Due fire times the catch-up policy dropped; `moreDropped`: and earlier ones, not counted. */
  dropped: number;
  moreDropped: boolean;
  /** Every fire time up to here is decided: made, or dropped. */
  decidedThrough: number;
  /** The first fire time after `decidedThrough`; null: none (an end date passed, or not active). */
  nextFireAt: number | null;
}

/**
 * Which due fires of a schedule to make at `now`, given that every fire up to `decidedThrough` is decided already. Due
 * fires lie after the later of `decidedThrough` and the schedule's `firesFrom`; a paused or deleted schedule has none.
 * The catch-up policy picks among them: `none` makes those still on time, `latest` the latest one, `all` the latest
 * `catchUpLimit`. In steady running, each call finds one fire, on time, and all three policies make it.
 */
export function planDueFires(schedule: Schedule, decidedThrough: number, now: number): FirePlan {
  const after = Math.max(decidedThrough, Date.parse(schedule.firesFrom));
  if (schedule.status !== 'active') {
    return {
      fire: [],
      dropped: 0,
      moreDropped: false,
      decidedThrough: Math.max(decidedThrough, now),
      nextFireAt: null,
    };
  }
  if (now <= after) {
    return { fire: [], dropped: 0, moreDropped: false, decidedThrough, nextFireAt: firstAfter(schedule, after) };
  }
  const window = (schedule.catchUp === 'all' ? schedule.catchUpLimit : MAX_ON_TIME_FIRES) + 1;
  // Forwards from the last decision: in steady running that is the one due fire and the next one. Only when more than
  // the window came due (a long outage) are the latest of them found backwards from now.
  let due: number[] = [];
  let nextFireAt: number | null = null;
  let overflow = false;
  for (const t of fireTimes(schedule, after)) {
    if (t > now) {
      nextFireAt = t;
      break;
    }
    if (due.length === window) {
      due = fireTimesUpTo(schedule, after, now, window);
      overflow = true;
      nextFireAt = firstAfter(schedule, now);
      break;
    }
    due.push(t);
  }
  let fire: number[];
  switch (schedule.catchUp) {
    case 'none':
      fire = due.filter((t) => now - t <= ON_TIME_GRACE_MS);
      break;
    case 'latest':
      fire = due.slice(-1);
      break;
    case 'all':
      fire = due.slice(-schedule.catchUpLimit);
      break;
    default: {
      const _never: never = schedule.catchUp;
      return _never;
    }
  }
  return { fire, dropped: due.length - fire.length, moreDropped: overflow, decidedThrough: now, nextFireAt };
}

function firstAfter(schedule: Schedule, after: number): number | null {
  for (const t of fireTimes(schedule, after)) return t;
  return null;
}

export type OverlapDecision = 'fire' | 'skip' | 'buffer';

/**
 * What becomes of a fire while the previous fire's job may still be running (`previousRunning`), when one fire is
 * already buffered (`buffered`) or not.
 */
export function decideOverlap(policy: OverlapPolicy, previousRunning: boolean, buffered: boolean): OverlapDecision {
  if (!previousRunning) return 'fire';
  switch (policy) {
    case 'allow':
      return 'fire';
    case 'skip':
      return 'skip';
    case 'bufferOne':
      return buffered ? 'skip' : 'buffer';
    default: {
      const _never: never = policy;
      return _never;
    }
  }
}

/**
 * Whether the previous fire's job still runs, from its status in the projection. A job the projection does not hold
 * yet was created a moment ago, or its request is still on its way: it counts as running.
 */
export function previousFireRunning(status: JobStatus | null): boolean {
  return status === null || !isTerminal(status);
}

/** The `JobRequested` of a fire: the schedule's job template, under the id derived from the schedule and fire time. */
export function fireRequest(schedule: Schedule, fireAt: number, now: Date): JobEventOf<'JobRequested'> {
  const { job } = schedule;
  return {
    eventId: scheduledRequestEventId(schedule.id, fireAt),
    jobId: scheduledJobId(schedule.id, fireAt),
    tenantId: schedule.tenantId,
    type: 'JobRequested',
    schemaVersion: EVENT_SCHEMA_VERSION,
    occurredAt: now.toISOString(),
    source: 'runner',
    data: {
      ...job,
      metadata: {
        ...job.metadata,
        [SCHEDULE_METADATA_KEY]: schedule.id,
        [FIRE_AT_METADATA_KEY]: new Date(fireAt).toISOString(),
      },
      runAt: null,
      idempotencyKey: null,
    },
  };
}

/** Fire times looked at per step when finding where a schedule's fires got to (see `recoverFireProgress`). */
const RECOVERY_STEP = 10;

/**
 * The due fire times whose jobs tell how far a schedule's fires got, latest first, to be looked up in groups
 * (`recoverySteps`): only as many as the catch-up policy could still make.
 */
export function recoveryCandidates(schedule: Schedule, now: number): number[] {
  const window = (schedule.catchUp === 'all' ? schedule.catchUpLimit : MAX_ON_TIME_FIRES) + 1;
  return fireTimesUpTo(schedule, Date.parse(schedule.firesFrom), now, window).reverse();
}

/** Splits candidates (latest first) into the groups looked up one after another until a made fire is found. */
export function recoverySteps(candidates: readonly number[]): number[][] {
  const steps: number[][] = [];
  for (let i = 0; i < candidates.length; i += RECOVERY_STEP) steps.push(candidates.slice(i, i + RECOVERY_STEP));
  return steps;
}

export interface FireProgress {
  /** Every fire time up to here is decided. */
  decidedThrough: number;
  /** The latest fire made: its job is the one an overlap policy waits for. */
  lastFireAt: number | null;
}

/**
 * Where a schedule's fires got to, from which of the candidate fire times have a job (`made`): the latest made fire
 * and everything before it are decided; with none made, nothing after `firesFrom` is. A job the projection does not
 * hold yet looks unmade, so its fire is made again, under the same job id: harmless.
 */
export function recoverFireProgress(schedule: Schedule, made: readonly number[]): FireProgress {
  const lastFireAt = made.length > 0 ? Math.max(...made) : null;
  return { decidedThrough: lastFireAt ?? Date.parse(schedule.firesFrom), lastFireAt };
}
