import {
  decide,
  derivedId,
  type DeadLetterBulkAction,
  type DeadLetterBulkPayload,
  type Job,
  type JobEvent,
} from '@jobline/libs/core';

/** The dead letters a bulk job acts on, fixed when it first runs. Instants are UTC ISO strings, as the jobs hold them. */
export interface DeadLetterScope {
  tenantId: string;
  type: string | null;
  code: string | null;
  /** Dead-lettered at or after (inclusive); null: any time. */
  from: string | null;
  /** Dead-lettered before (exclusive): at most the moment the bulk job was requested. */
  to: string;
}

/** Where a scan of the dead letters stands: the last one passed, in the order (deadLetteredAt, id). */
export interface ScanPosition {
  deadLetteredAt: string;
  id: string;
}

/**
 * The bulk job's filter as applied. It never reaches past the moment the job was requested: what it acts on is
 * settled then, so a job it redrives that fails again while it runs is not met a second time, and a rerun looks at
 * the same dead letters.
 */
export function bulkScope(
  bulkJob: Pick<Job, 'tenantId' | 'createdAt'>,
  payload: DeadLetterBulkPayload,
): DeadLetterScope {
  const requestedAt = utc(bulkJob.createdAt);
  const to = payload.to === undefined ? requestedAt : utc(payload.to);
  return {
    tenantId: bulkJob.tenantId,
    type: payload.type ?? null,
    code: payload.code ?? null,
    from: payload.from === undefined ? null : utc(payload.from),
    to: to < requestedAt ? to : requestedAt,
  };
}

/**
 * The id of the event by which a bulk job redrives or discards one job: derived from the two job ids, so that every
 * run of the bulk job (a rerun after its runner died, a redrive of the bulk job itself) names the same event, which
 * the event history stores once and a later run finds there.
 */
export function bulkEventId(bulkJob: Pick<Job, 'id' | 'createdAt'>, targetId: string): string {
  return derivedId(`deadLetters ${bulkJob.id} ${targetId}`, Date.parse(bulkJob.createdAt));
}

/**
 * The command events of one page of dead letters: a `JobRetryRequested` or a `JobDiscarded` for each, decided on its
 * state as read (the log applies it only while the job is still that dead letter), under the derived event id.
 */
export function bulkCommands(
  action: DeadLetterBulkAction,
  bulkJob: Pick<Job, 'id' | 'createdAt'>,
  targets: readonly Job[],
  { now, reason = null }: { now: Date; reason?: string | null },
): JobEvent[] {
  return targets.flatMap((target) => {
    if (target.status !== 'failed') return [];
    const command =
      action === 'redrive'
        ? ({ type: 'RetryJob', bulkJobId: bulkJob.id } as const)
        : ({ type: 'DiscardJob', reason, bulkJobId: bulkJob.id } as const);
    return decide(command, target, { source: 'runner', now, random: 0 }).map((event) => ({
      ...event,
      eventId: bulkEventId(bulkJob, target.id),
    }));
  });
}

/** An instant as the jobs hold them (UTC, milliseconds), whatever offset it was written with. */
function utc(instant: string): string {
  return new Date(instant).toISOString();
}
