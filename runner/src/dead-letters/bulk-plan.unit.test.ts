import { evolve, foldEvents, newEvent, type Job, type JobEvent } from '@jobline/libs/core';
import { aJobRequested } from '@jobline/libs/testing';
import { bulkCommands, bulkEventId, bulkScope } from './bulk-plan';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (second: number) => new Date(T0 + second * 1000);

const bulkJob = (payload: unknown = {}, type = 'deadLetters.redrive'): Job =>
  evolve(null, aJobRequested({ tenantId: 'acme', now: at(100), type, payload }))!;

/** A job of `acme` that failed for good on its only attempt, `second` seconds after T0. */
function deadLetter(second: number, code = 'HANDLER_FAILED'): Job {
  const requested = aJobRequested({ tenantId: 'acme', now: at(second - 1), type: 'sleep', maxAttempts: 2 });
  const ctx = { jobId: requested.jobId, tenantId: 'acme', source: 'runner' as const, now: at(second) };
  const error = { code, message: 'boom', retryable: false };
  const events: JobEvent[] = [
    requested,
    newEvent('JobStarted', ctx, { attempt: 1, runnerId: 'r' }),
    newEvent('JobAttemptFailed', ctx, { attempt: 1, error, nextRunAt: null }),
    newEvent('JobDeadLettered', ctx, { attempt: 1, error }),
  ];
  return foldEvents(events)!;
}

describe('bulkScope', () => {
  it('reaches up to the moment the bulk job was requested when no `to` is given', () => {
    expect(bulkScope(bulkJob(), {})).toEqual({
      tenantId: 'acme',
      type: null,
      code: null,
      from: null,
      to: at(100).toISOString(),
    });
  });

  it('keeps an earlier `to`, but never one past the request, and writes instants as the jobs hold them', () => {
    const scope = bulkScope(bulkJob(), {
      type: 'http',
      code: 'OUTBOUND_NETWORK',
      from: '2026-03-01T11:00:10+01:00',
      to: '2026-03-01T11:00:50+01:00',
    });
    expect(scope).toMatchObject({ from: at(10).toISOString(), to: at(50).toISOString() });

    expect(bulkScope(bulkJob(), { to: at(500).toISOString() }).to).toBe(at(100).toISOString());
  });
});

describe('bulkEventId', () => {
  it('names the same event for the same bulk job and target, however often it is derived', () => {
    const bulk = bulkJob();
    const target = deadLetter(5);

    expect(bulkEventId(bulk, target.id)).toBe(bulkEventId({ ...bulk }, target.id));
    expect(bulkEventId(bulk, target.id)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('names another event for another target or another bulk job', () => {
    const [bulk, other] = [bulkJob(), bulkJob()];
    const [a, b] = [deadLetter(5), deadLetter(6)];

    expect(new Set([bulkEventId(bulk, a.id), bulkEventId(bulk, b.id), bulkEventId(other, a.id)]).size).toBe(3);
  });
});

describe('bulkCommands', () => {
  const now = at(200);

  it('redrives each failed job with maxAttempts more attempts, under the derived id, naming the bulk job', () => {
    const bulk = bulkJob();
    const targets = [deadLetter(5), deadLetter(6)];

    const events = bulkCommands('redrive', bulk, targets, { now });

    expect(events).toEqual(
      targets.map((target) =>
        expect.objectContaining({
          eventId: bulkEventId(bulk, target.id),
          jobId: target.id,
          tenantId: 'acme',
          type: 'JobRetryRequested',
          source: 'runner',
          occurredAt: now.toISOString(),
          data: { attemptLimit: 3, bulkJobId: bulk.id },
        }),
      ),
    );
    expect(events.map((e, i) => evolve(targets[i]!, e)?.status)).toEqual(['pending', 'pending']);
  });

  it('discards each failed job from the failure it was read with, with the reason', () => {
    const bulk = bulkJob({}, 'deadLetters.discard');
    const target = deadLetter(5);

    const [event] = bulkCommands('discard', bulk, [target], { now, reason: 'obsolete after the migration' });

    expect(event).toMatchObject({
      eventId: bulkEventId(bulk, target.id),
      type: 'JobDiscarded',
      data: { attempt: 1, reason: 'obsolete after the migration', bulkJobId: bulk.id },
    });
    expect(evolve(target, event!)).toMatchObject({ status: 'discarded', finishedAt: target.finishedAt });
  });

  it('decides nothing for a job that is no longer failed', () => {
    const target = deadLetter(7);
    const redriven = evolve(target, bulkCommands('redrive', bulkJob(), [target], { now })[0]!)!;

    expect(redriven.status).toBe('pending');
    expect(bulkCommands('redrive', bulkJob(), [redriven], { now })).toEqual([]);
    expect(bulkCommands('discard', bulkJob(), [redriven], { now })).toEqual([]);
  });
});
