import { Cron } from 'croner';
import type { ScheduleTrigger } from './schedule-events';

/**
 * When a schedule fires, as instants (epoch milliseconds). Pure: the clock comes in as an argument.
 *
 * Cron expressions are read by croner (5 fields, or 6 with seconds first) in the schedule's IANA time zone, with its
 * daylight-saving rules, which follow Vixie cron: a fixed time of day that falls in the hour skipped in spring fires at
 * the first valid time after it, the same day; one that occurs twice in autumn fires once, at the first occurrence;
 * expressions with a wildcard or step in seconds, minutes or hours fire on the real clock, so an hour skipped has no
 * fires and an hour repeated has them twice. An interval fires at `startAt + k × every` (k ≥ 0), or counts from when
 * its trigger was set when it has no `startAt`. Every fire lies in `[startAt, endAt)`.
 */
export interface ScheduleTiming {
  trigger: ScheduleTrigger;
  startAt: string | null;
  endAt: string | null;
  /** Where an interval without `startAt` counts from. */
  anchorAt: string;
}

const CRON_CACHE_LIMIT = 10_000;
const crons = new Map<string, Cron>();

/** Zones that are UTC all year: croner computes in a fixed offset an order of magnitude faster than through Intl. */
const UTC_ZONES = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Etc/Zulu', 'Universal', 'Zulu']);

function cronOf(expression: string, timeZone: string): Cron {
  const key = `${timeZone} ${expression}`;
  let cron = crons.get(key);
  if (!cron) {
    if (crons.size >= CRON_CACHE_LIMIT) crons.clear();
    const zone = UTC_ZONES.has(timeZone) ? { utcOffset: 0 } : { timezone: timeZone };
    cron = new Cron(expression, { ...zone, mode: '5-or-6-parts' });
    crons.set(key, cron);
  }
  return cron;
}

export type TriggerCheck = { ok: true } | { ok: false; field: 'cron' | 'timeZone' | 'intervalMs'; message: string };

/** Whether a trigger can fire at all: a cron expression croner reads, a time zone the runtime knows, a time that exists. */
export function checkTrigger(trigger: ScheduleTrigger, now: number): TriggerCheck {
  if (trigger.kind === 'interval') return { ok: true };
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: trigger.timeZone });
  } catch {
    return { ok: false, field: 'timeZone', message: 'not an IANA time zone this server knows, e.g. Europe/Berlin' };
  }
  let cron: Cron;
  try {
    cron = cronOf(trigger.expression, trigger.timeZone);
  } catch (err) {
    return { ok: false, field: 'cron', message: (err as Error).message.replace(/^CronPattern: /, '') };
  }
  if (!cron.nextRun(new Date(now))) return { ok: false, field: 'cron', message: 'the expression never fires' };
  return { ok: true };
}

const instant = (timestamp: string | null, otherwise: number) =>
  timestamp === null ? otherwise : Date.parse(timestamp);

/** The fire times after `after` (exclusive), earliest first, lazily: each costs one step of the cron library. */
export function* fireTimes(timing: ScheduleTiming, after: number): Generator<number, void, undefined> {
  const start = instant(timing.startAt, -Infinity);
  const end = instant(timing.endAt, Infinity);
  const from = Math.max(after, start - 1);
  const { trigger } = timing;
  if (trigger.kind === 'interval') {
    const anchor = instant(timing.startAt, Date.parse(timing.anchorAt));
    for (let k = Math.max(0, Math.floor((from - anchor) / trigger.everyMs) + 1); ; k++) {
      const t = anchor + k * trigger.everyMs;
      if (t >= end) return;
      yield t;
    }
  }
  const cron = cronOf(trigger.expression, trigger.timeZone);
  for (let previous = new Date(from); ;) {
    const next = cron.nextRun(previous);
    if (!next || next.getTime() >= end) return;
    yield next.getTime();
    previous = next;
  }
}

/** Up to `limit` fire times after `after` (exclusive), earliest first. */
export function fireTimesAfter(timing: ScheduleTiming, after: number, limit: number): number[] {
  const times: number[] = [];
  if (limit <= 0) return times;
  for (const t of fireTimes(timing, after)) {
    times.push(t);
    if (times.length >= limit) break;
  }
  return times;
}

/** Up to the latest `limit` fire times in `(after, upTo]`, earliest first. */
export function fireTimesUpTo(timing: ScheduleTiming, after: number, upTo: number, limit: number): number[] {
  const start = instant(timing.startAt, -Infinity);
  const end = instant(timing.endAt, Infinity);
  const lowest = Math.max(after + 1, start);
  const highest = Math.min(upTo, end - 1);
  if (limit <= 0 || highest < lowest) return [];
  const { trigger } = timing;
  const times: number[] = [];
  if (trigger.kind === 'interval') {
    const anchor = instant(timing.startAt, Date.parse(timing.anchorAt));
    const first = Math.max(0, Math.ceil((lowest - anchor) / trigger.everyMs));
    const last = Math.floor((highest - anchor) / trigger.everyMs);
    for (let k = Math.max(first, last - limit + 1); k <= last; k++) times.push(anchor + k * trigger.everyMs);
    return times;
  }
  // Backwards in growing steps, so that a window holding one fire costs one step however large `limit` is. croner
  // includes a run earlier in the same second as its reference, and excludes the reference itself.
  const cron = cronOf(trigger.expression, trigger.timeZone);
  let reference = new Date(highest + 1);
  for (let step = 2; times.length < limit; step *= 2) {
    const want = Math.min(step, limit - times.length);
    const runs = cron.previousRuns(want, reference);
    for (const run of runs) {
      if (run.getTime() < lowest) return times.reverse();
      times.push(run.getTime());
    }
    if (runs.length < want) break;
    reference = runs.at(-1)!;
  }
  return times.reverse();
}
