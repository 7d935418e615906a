import fc from 'fast-check';
import type { JobEvent, JobEventOf, JobEventType } from '../events/job-events';
import { newEvent } from '../events/new-event';
import { decodeEvent, encodeEvent, EVENT_TYPE_HEADER, headerString, type DecodeResult } from './event-codec';

const JOB_ID = '9a3e2b7c-1d4f-4e6a-b8c9-0f1e2d3c4b5a';
const NOW = new Date('2026-01-01T12:00:00.000Z');

function event<T extends JobEventType>(type: T, data: JobEventOf<T>['data']): JobEventOf<T> {
  return newEvent(type, { jobId: JOB_ID, tenantId: 'acme', source: 'runner', now: NOW }, data);
}

const error = { code: 'HANDLER_FAILED', message: 'boom', retryable: true };
/** One event of every type. */
const EVERY_TYPE: JobEvent[] = [
  event('JobRequested', {
    type: 'sleep',
    payload: { ms: 10, nested: [1, 'two', null] },
    runAt: '2026-01-01T13:00:00+01:00',
    maxAttempts: 3,
    backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 },
    timeoutMs: 30_000,
    callbackUrl: 'https://hooks.example.com/done',
    notify: { email: 'ops@example.com' },
    metadata: { team: 'data' },
    idempotencyKey: 'order-42',
  }),
  event('JobStarted', { attempt: 1, runnerId: 'runner-1' }),
  event('JobProgressed', { attempt: 1, current: 3, total: 10, message: 'three' }),
  event('JobCompleted', { attempt: 1, result: { rows: 7 }, resultUrl: null }),
  event('JobAttemptFailed', { attempt: 1, error, nextRunAt: '2026-01-01T12:00:30.000Z' }),
  event('JobDeadLettered', { attempt: 3, error }),
  event('JobCancelRequested', { reason: 'user' }),
  event('JobCancelled', { reason: null }),
  event('JobRetryRequested', { attemptLimit: 6 }),
];

/** The bytes a consumer would receive for `value`. */
const bytes = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

function expectRejected(result: DecodeResult, reason: string | RegExp): void {
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe('encodeEvent', () => {
  it('keys the record by job id and names the event type in a header', () => {
    const e = EVERY_TYPE[1]!;

    const message = encodeEvent(e);

    expect(message.key).toBe(JOB_ID);
    expect(message.headers).toEqual({ [EVENT_TYPE_HEADER]: 'JobStarted' });
    expect(JSON.parse(String(message.value))).toEqual(e);
  });
});

describe('decodeEvent', () => {
  it.each(EVERY_TYPE.map((e) => [e.type, e] as const))('decodes what encodeEvent encoded, for %s', (_, e) => {
    const result = decodeEvent(bytes(encodeEvent(e).value));

    expect(result).toEqual({ ok: true, event: e });
  });

  it('keeps any JSON payload and result through a round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (payload, result) => {
        // JSON has no -0: compare with what JSON itself gives back
        const [p, r] = JSON.parse(JSON.stringify([payload, result])) as [unknown, unknown];
        const requested = {
          ...EVERY_TYPE[0]!,
          data: { ...(EVERY_TYPE[0] as JobEventOf<'JobRequested'>).data, payload: p },
        };
        const done = event('JobCompleted', { attempt: 2, result: r, resultUrl: null });

        expect(decodeEvent(bytes(encodeEvent(requested as JobEvent).value))).toEqual({ ok: true, event: requested });
        expect(decodeEvent(bytes(encodeEvent(done).value))).toEqual({ ok: true, event: done });
      }),
    );
  });

  it('drops fields the schema does not know', () => {
    const e = EVERY_TYPE[1]!;

    expect(decodeEvent(bytes({ ...e, extra: 'x' }))).toEqual({ ok: true, event: e });
  });

  it.each([
    ['null', null],
    ['zero bytes', Buffer.alloc(0)],
  ])('rejects an empty message (%s)', (_, value) => {
    expect(decodeEvent(value)).toEqual({ ok: false, reason: 'empty message' });
  });

  it.each(['{', 'not json', '{"type":"JobStarted",}', '\u0000\u0001'])('rejects invalid JSON %j', (text) => {
    expectRejected(decodeEvent(bytes(text)), /^invalid JSON: /);
  });

  it.each<[string, unknown, RegExp]>([
    ['a JSON null', null, /^schema mismatch at \(root\): /],
    ['a JSON array', [], /^schema mismatch at \(root\): /],
    ['an unknown event type', { ...EVERY_TYPE[1], type: 'JobExploded' }, /^schema mismatch at type: /],
    ['another schema version', { ...EVERY_TYPE[1], schemaVersion: 2 }, /^schema mismatch at schemaVersion: /],
    ['a job id that is not a uuid', { ...EVERY_TYPE[1], jobId: 'job-1' }, /^schema mismatch at jobId: /],
    ['a timestamp without a zone', { ...EVERY_TYPE[1], occurredAt: '2026-01-01T12:00:00' }, /at occurredAt: /],
    ['an attempt 0', { ...EVERY_TYPE[1], data: { attempt: 0, runnerId: 'r' } }, /^schema mismatch at data\.attempt: /],
    ['data of another type', { ...EVERY_TYPE[1], data: { reason: null } }, /^schema mismatch at data\.attempt: /],
  ])('rejects %s as a schema mismatch naming the field', (_, value, reason) => {
    expectRejected(decodeEvent(bytes(value)), reason);
  });

  it('never throws on arbitrary bytes, and reports why it rejects them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (raw) => {
        const result = decodeEvent(Buffer.from(raw));

        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it('never throws on arbitrary JSON, nor on an event with one field replaced by arbitrary JSON', () => {
    const fieldArb = fc.constantFrom(
      'eventId',
      'jobId',
      'tenantId',
      'type',
      'schemaVersion',
      'occurredAt',
      'source',
      'data',
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(...EVERY_TYPE), fieldArb, (json, e, field) => {
        expect(() => decodeEvent(bytes(json))).not.toThrow();
        expect(() => decodeEvent(bytes({ ...e, [field]: json }))).not.toThrow();
      }),
    );
  });
});

describe('headerString', () => {
  it.each<[string, Parameters<typeof headerString>[0], string | undefined]>([
    ['a Buffer', { [EVENT_TYPE_HEADER]: Buffer.from('JobStarted') }, 'JobStarted'],
    ['a string', { [EVENT_TYPE_HEADER]: 'JobStarted' }, 'JobStarted'],
    ['the first of several values', { [EVENT_TYPE_HEADER]: ['JobStarted', 'JobCompleted'] }, 'JobStarted'],
    ['a missing header', { other: 'x' }, undefined],
    ['no headers', undefined, undefined],
  ])('reads %s', (_, headers, expected) => {
    expect(headerString(headers, EVENT_TYPE_HEADER)).toBe(expected);
  });
});
