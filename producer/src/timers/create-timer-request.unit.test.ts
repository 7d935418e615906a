import { isJoblineError, toJobView, evolve, parseOutboundAllowList, type JobView } from '@jobline/libs';
import { jobRequestedEvent, MAX_SCHEDULE_AHEAD_MS, type JobRequestLimits } from '../jobs/create-job-request';
import { parseCreateTimer, TIMER_METADATA_KEY, toTimerView } from './create-timer-request';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const ID = '0b7e3c1a-7f7a-4a53-9a43-3b4f5f8e9d10';
const LIMITS: JobRequestLimits = { maxPayloadBytes: 262_144 };
const URL_ = 'https://hooks.example.com/timers';

const parse = (body: unknown, limits = LIMITS) => parseCreateTimer(body, limits, NOW, ID);

/** The fields a timer request is refused for, by name. */
function refused(body: unknown, limits = LIMITS): string[] {
  try {
    parse(body, limits);
  } catch (err) {
    if (isJoblineError(err)) return err.details.map((d) => d.field);
    throw err;
  }
  return [];
}

function viewOf(body: unknown, changes: Partial<JobView> = {}): JobView {
  const event = jobRequestedEvent(parse(body), 'acme', NOW, null, ID);
  return { ...toJobView(evolve(null, event)!), ...changes };
}

describe('a timer request', () => {
  it('becomes an http job that POSTs {id, payload} to the URL when due', () => {
    const request = parse({ url: URL_, minutes: 1, seconds: 30, payload: { order: 42 } });

    expect(request).toMatchObject({
      type: 'http',
      payload: { method: 'POST', url: URL_, body: { id: ID, payload: { order: 42 } } },
      runAt: '2026-06-01T12:01:30.000Z',
      metadata: { [TIMER_METADATA_KEY]: '2026-06-01T12:01:30.000Z' },
    });
    expect(jobRequestedEvent(request, 'acme', NOW, null, ID)).toMatchObject({
      jobId: ID,
      data: { type: 'http', runAt: '2026-06-01T12:01:30.000Z' },
    });
  });

  it('adds up hours, minutes and seconds, and sends a null payload when none is given', () => {
    expect(parse({ url: URL_, hours: 2, minutes: 3, seconds: 4 })).toMatchObject({
      runAt: '2026-06-01T14:03:04.000Z',
      payload: { body: { id: ID, payload: null } },
    });
  });

  it('takes runAt as the instant it names, in UTC', () => {
    expect(parse({ url: URL_, runAt: '2026-06-02T00:00:00+02:00', payload: 'x' }).runAt).toBe(
      '2026-06-01T22:00:00.000Z',
    );
  });

  it('takes the URL as webhookUrl too, naming it so when it is refused', () => {
    expect(parse({ webhookUrl: URL_, hours: 1, minutes: 2, seconds: 0 })).toMatchObject({
      payload: { url: URL_ },
      runAt: '2026-06-01T13:02:00.000Z',
    });
    expect(parse({ url: URL_, webhookUrl: URL_, seconds: 1 }).payload).toMatchObject({ url: URL_ });
    expect(refused({ webhookUrl: 'http://192.168.1.10/t', seconds: 5 })).toEqual(['webhookUrl']);
    expect(refused({ url: URL_, webhookUrl: `${URL_}/other`, seconds: 5 })).toEqual(['webhookUrl']);
  });

  it('may be due now', () => {
    expect(parse({ url: URL_, seconds: 0 }).runAt).toBe(NOW.toISOString());
  });

  it.each<[string, unknown, string[]]>([
    ['no schedule', { url: URL_ }, ['runAt']],
    ['runAt and a duration', { url: URL_, runAt: '2026-06-02T00:00:00Z', seconds: 5 }, ['runAt']],
    ['no url', { seconds: 5 }, ['url']],
    ['a private url', { url: 'http://192.168.1.10/t', seconds: 5 }, ['url']],
    ['the metadata address', { url: 'http://169.254.169.254/', seconds: 5 }, ['url']],
    ['a non-http url', { url: 'ftp://example.com/', seconds: 5 }, ['url']],
    ['negative seconds', { url: URL_, seconds: -1 }, ['seconds']],
    ['fractional hours', { url: URL_, hours: 1.5 }, ['hours']],
    ['minutes as a string', { url: URL_, minutes: '5' }, ['minutes']],
    ['a duration beyond a year', { url: URL_, hours: 8000, minutes: 60_000 }, ['hours']],
    [
      'a runAt beyond a year',
      { url: URL_, runAt: new Date(Date.now() + MAX_SCHEDULE_AHEAD_MS + 60_000).toISOString() },
      ['runAt'],
    ],
    ['a runAt without offset', { url: URL_, runAt: '2026-06-02T00:00:00' }, ['runAt']],
    ['an unknown field', { url: URL_, seconds: 5, method: 'GET' }, ['']],
    ['a payload over the body bound', { url: URL_, seconds: 5, payload: 'x'.repeat(70_000) }, ['payload']],
    ['a payload over the payload bound', { url: URL_, seconds: 5, payload: 'x'.repeat(2000) }, ['payload']],
  ])('refuses %s, naming the field', (name, body, fields) => {
    const limits = name === 'a payload over the payload bound' ? { maxPayloadBytes: 1024 } : LIMITS;
    expect(refused(body, limits)).toEqual(fields.map((f) => f || '(body)'));
  });

  it('accepts a loopback url when the allow-list admits it', () => {
    expect(
      refused(
        { url: 'http://127.0.0.1:9999/t', seconds: 1 },
        { ...LIMITS, outboundAllowList: parseOutboundAllowList('127.0.0.1/32') },
      ),
    ).toEqual([]);
  });

  it('is at most a year ahead, to the millisecond', () => {
    expect(refused({ url: URL_, seconds: MAX_SCHEDULE_AHEAD_MS / 1000 })).toEqual([]);
    expect(refused({ url: URL_, seconds: MAX_SCHEDULE_AHEAD_MS / 1000 + 1 })).toEqual(['seconds']);
  });
});

describe('the timer view', () => {
  const body = { url: URL_, seconds: 90 };

  it('counts whole seconds left, rounded up, while the timer waits', () => {
    const view = viewOf(body, { status: 'scheduled' });
    expect(toTimerView(view, NOW)).toEqual({
      id: ID,
      status: 'scheduled',
      runAt: '2026-06-01T12:01:30.000Z',
      timeLeft: 90,
    });
    expect(toTimerView(view, new Date(NOW.getTime() + 89_001))?.timeLeft).toBe(1);
    expect(toTimerView(view, new Date(NOW.getTime() + 90_000))?.timeLeft).toBe(0);
    expect(toTimerView(view, new Date(NOW.getTime() + 120_000))?.timeLeft).toBe(0);
  });

  it('shows 0 left once the timer fired or was cancelled, and keeps the time it was due', () => {
    for (const status of ['processing', 'completed', 'failed', 'cancelled'] as const) {
      expect(toTimerView(viewOf(body, { status }), NOW)).toMatchObject({
        status,
        timeLeft: 0,
        runAt: '2026-06-01T12:01:30.000Z',
      });
    }
    // A retry after the timer fired moves the job's runAt, not the timer's.
    const retrying = viewOf(body, { status: 'scheduled', attempts: 1, runAt: '2026-06-01T12:05:00.000Z' });
    expect(toTimerView(retrying, new Date(NOW.getTime() + 91_000))).toMatchObject({
      timeLeft: 0,
      runAt: '2026-06-01T12:01:30.000Z',
    });
  });

  it('is null for a job that is not a timer', () => {
    const plain = viewOf(body, { metadata: {} });
    expect(toTimerView(plain, NOW)).toBeNull();
    expect(toTimerView({ ...viewOf(body), type: 'noop' }, NOW)).toBeNull();
  });
});
