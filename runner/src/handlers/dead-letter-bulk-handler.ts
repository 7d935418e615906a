import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeadLettersDiscardPayload,
  DeadLettersRedrivePayload,
  type DeadLetterBulkAction,
  type DeadLetterBulkOutcome,
  type DeadLetterBulkPayload,
} from '@jobline/libs/core';
import type { EventPublisher } from '@jobline/libs/kafka';
import { bulkCommands, bulkScope } from '../dead-letters/bulk-plan';
import type { BulkRun, BulkRunStore, DeadLetterStore } from '../dead-letters/dead-letter-store';
import type { JobHandler } from './job-handler';

export interface DeadLetterBulkDeps {
  deadLetters: DeadLetterStore;
  bulkRuns: BulkRunStore;
  /** Where the redrives and discards go: the event log. */
  publisher: EventPublisher;
  now: () => Date;
  /** Dead letters read, and commands published, at a time. @defaultValue 500 */
  pageSize?: number;
}

const PAYLOADS = { redrive: DeadLettersRedrivePayload, discard: DeadLettersDiscardPayload } as const;
const DONE = { redrive: 'redriven', discard: 'discarded' } as const;

/**
 * `deadLetters.redrive` and `deadLetters.discard`: pages through the tenant's dead letters that match the filter,
 * oldest first, and publishes a `JobRetryRequested` or a `JobDiscarded` for each, reporting progress per page.
 *
 * Each dead letter is acted on once however often the job runs (execution is at-least-once): the run is kept in
 * MongoDB (`BulkRun`), a page's events are staged before they are published and the page committed after, so a rerun
 * resumes after the last committed page and publishes a staged one again under the same event ids and with the same
 * data; a dead letter whose event from this job the history already holds is passed over. A job redriven by this one
 * that fails again is a new dead letter, dead-lettered after this job was requested: outside its scope.
 */
export function createDeadLetterBulkHandler(action: DeadLetterBulkAction, deps: DeadLetterBulkDeps): JobHandler {
  const pageSize = deps.pageSize ?? 500;
  return async (job, ctx) => {
    const payload: DeadLetterBulkPayload = PAYLOADS[action].parse(job.payload);
    const limit = payload.limit ?? Infinity;
    let run =
      (await deps.bulkRuns.load(job.id)) ??
      (await (async () => {
        const scope = bulkScope(job, payload);
        const matched = await deps.deadLetters.count(scope, payload.limit);
        return deps.bulkRuns.begin({ _id: job.id, action, scope, matched });
      })());

    const publishStaged = async (staged: BulkRun): Promise<BulkRun> => {
      if (staged.staged && staged.staged.events.length > 0) await deps.publisher.publish(staged.staged.events);
      return deps.bulkRuns.commit(staged);
    };
    const report = () => ctx.progress(run.acted, Math.max(run.matched, run.acted), `${run.acted} ${DONE[action]}`);

    if (run.staged) run = await publishStaged(run);
    // Progress goes out at most every half second (the runner throttles it), so a page's report is the one that
    // counts: a first report of nothing done would hold back that of a job done within one page.
    if (run.acted > 0) report();
    const pace = pacer(payload.maxPerSecond, ctx.signal);
    while (run.acted < limit) {
      ctx.signal.throwIfAborted();
      const size = Math.min(pageSize, limit - run.acted, payload.maxPerSecond ?? Infinity);
      const targets = await deps.deadLetters.page(run.scope, run.after, size);
      if (targets.length === 0) break;
      const events = bulkCommands(action, job, targets, { now: deps.now(), reason: payload.reason ?? null });
      const done = await deps.deadLetters.storedEventIds(events.map((e) => e.eventId));
      const last = targets.at(-1)!;
      run = await deps.bulkRuns.stage(run, {
        events: events.filter((e) => !done.has(e.eventId)),
        after: { deadLetteredAt: last.deadLetteredAt!, id: last.id },
      });
      const published = run.staged!.events.length;
      run = await publishStaged(run);
      report();
      await pace(published);
    }

    const limitReached = run.acted >= limit && (await deps.deadLetters.page(run.scope, run.after, 1)).length > 0;
    ctx.logger.info('bulk job on the dead letters done', { action, matched: run.matched, acted: run.acted });
    const { tenantId: _tenant, ...filter } = run.scope;
    const matched = Math.max(run.matched, run.acted);
    const common = { filter, matched, skipped: matched - run.acted, limitReached };
    const outcome: DeadLetterBulkOutcome =
      action === 'redrive' ? { action, ...common, redriven: run.acted } : { action, ...common, discarded: run.acted };
    return { result: outcome };
  };
}

/** Waits, after each page, as long as keeps the commands at most `perSecond` on average; no limit: no wait. */
function pacer(perSecond: number | undefined, signal: AbortSignal) {
  const started = Date.now();
  let sent = 0;
  return async (count: number) => {
    if (perSecond === undefined) return;
    sent += count;
    const wait = started + (sent * 1000) / perSecond - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
  };
}
