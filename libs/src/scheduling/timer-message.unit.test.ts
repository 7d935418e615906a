import { aJobRequested } from '../testing/job-events';
import { evolve } from '../jobs/evolve-job';
import { decodeTimer, encodeTimer, type TimerMessage } from './timer-message';

const requested = aJobRequested({
  jobId: '2f1c1d1e-8a39-4a1b-9a0e-6d3c1f0b9a11',
  now: new Date(0),
  type: 'sleep',
  payload: { ms: 5 },
  runAt: '1970-01-01T00:01:00.000Z',
  maxAttempts: 3,
});

describe('timer messages', () => {
  it('round-trip through their encoding, keyed by job id', () => {
    const timer: TimerMessage = {
      job: evolve(null, requested)!,
      attempt: 1,
      dueAt: '1970-01-01T00:01:00.000Z',
      enqueuedAt: '1970-01-01T00:00:00.000Z',
    };

    const message = encodeTimer(timer);
    const decoded = decodeTimer(Buffer.from(message.value as string));

    expect(message.key).toBe(requested.jobId);
    expect(decoded).toEqual({ ok: true, timer });
  });

  it.each([
    ['nothing', null],
    ['not JSON', Buffer.from('{oops')],
    ['no attempt', Buffer.from(JSON.stringify({ job: { id: 'x', tenantId: 't', type: 's', status: 'pending' } }))],
  ])('report %s as unreadable instead of throwing', (_, value) => {
    expect(decodeTimer(value)).toMatchObject({ ok: false, reason: expect.any(String) });
  });
});
