import fc from 'fast-check';
import { aWorkPaused, aWorkResumed } from '../testing/pause-events';
import { decodePauseEvent, encodePauseEvent } from './pause-codec';
import type { PauseEvent } from './pause-events';
import { evolvePause, pauseScopeId } from './pause-scope';
import { foldPauseEvents, PausedWork } from './paused-work';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('pauses: evolve one scope', () => {
  it('pauses with the reason and the moment, and resumes clearing both', () => {
    const paused = evolvePause(null, aWorkPaused({ jobType: 'http', reason: 'provider down', by: 'env:ops', now: T0 }));
    expect(paused).toEqual({
      tenantId: 'acme',
      jobType: 'http',
      paused: true,
      reason: 'provider down',
      pausedAt: T0.toISOString(),
      changedBy: 'env:ops',
      changedAt: T0.toISOString(),
    });

    const resumed = evolvePause(paused, aWorkResumed({ jobType: 'http', by: 'env:lead', now: at(60) }));
    expect(resumed).toEqual({
      tenantId: 'acme',
      jobType: 'http',
      paused: false,
      reason: null,
      pausedAt: null,
      changedBy: 'env:lead',
      changedAt: at(60).toISOString(),
    });
  });

  it('keeps the moment of the first pause when paused again, with the newer reason', () => {
    const first = evolvePause(null, aWorkPaused({ reason: 'deploy', now: T0 }));
    const again = evolvePause(first, aWorkPaused({ reason: 'deploy, second try', now: at(30) }));
    expect(again).toMatchObject({ paused: true, pausedAt: T0.toISOString(), reason: 'deploy, second try' });
  });

  it('leaves a scope never paused resumed when it is resumed', () => {
    expect(evolvePause(null, aWorkResumed({ now: T0 }))).toMatchObject({ paused: false, pausedAt: null });
  });

  it('names the tenant as a whole and each of its job types apart, whatever the tenant id holds', () => {
    const ids = [
      pauseScopeId('acme', null),
      pauseScopeId('acme', 'http'),
      pauseScopeId('acme","http', null),
      pauseScopeId('null', null),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('pauses: the paused work of every tenant', () => {
  it('holds a job type paused alone, or every type of a tenant paused as a whole, and no other tenant', () => {
    const work = foldPauseEvents([aWorkPaused({ jobType: 'http' }), aWorkPaused({ tenantId: 'globex' })]);
    expect(work.isPaused('acme', 'http')).toBe(true);
    expect(work.isPaused('acme', 'sleep')).toBe(false);
    expect(work.isPaused('globex', 'sleep')).toBe(true);
    expect(work.isPaused('globex', 'http')).toBe(true);
    expect(work.isPaused('initech', 'http')).toBe(false);
  });

  it('keeps a type paused while its tenant is resumed, and the tenant paused while the type is resumed', () => {
    const work = foldPauseEvents([aWorkPaused({ jobType: 'http' }), aWorkPaused(), aWorkResumed()]);
    expect(work.isPaused('acme', 'http')).toBe(true);
    expect(work.isPaused('acme', 'noop')).toBe(false);

    const whole = foldPauseEvents([aWorkPaused(), aWorkPaused({ jobType: 'http' }), aWorkResumed({ jobType: 'http' })]);
    expect(whole.isPaused('acme', 'http')).toBe(true);
  });

  it('tells which events changed what is paused: a new reason, or a resume of what runs, is no change', () => {
    const work = new PausedWork();
    expect(work.apply(aWorkPaused({ reason: 'a' }))).toBe(true);
    expect(work.apply(aWorkPaused({ reason: 'b' }))).toBe(false);
    expect(work.apply(aWorkResumed())).toBe(true);
    expect(work.apply(aWorkResumed())).toBe(false);
    expect(work.apply(aWorkResumed({ jobType: 'http' }))).toBe(false);
  });

  it('lists the paused scopes of one tenant', () => {
    const work = foldPauseEvents([
      aWorkPaused({ jobType: 'http' }),
      aWorkPaused({ jobType: 'sleep' }),
      aWorkResumed({ jobType: 'sleep' }),
      aWorkPaused({ tenantId: 'globex' }),
    ]);
    expect(work.pausedScopes('acme').map((s) => s.jobType)).toEqual(['http']);
  });

  const anEvent = fc
    .record({
      paused: fc.boolean(),
      tenantId: fc.constantFrom('acme', 'globex'),
      jobType: fc.constantFrom(null, 'http', 'sleep'),
      s: fc.nat(1000),
    })
    .map(({ paused, tenantId, jobType, s }): PauseEvent =>
      paused ? aWorkPaused({ tenantId, jobType, now: at(s) }) : aWorkResumed({ tenantId, jobType, now: at(s) }),
    );
  const answers = (work: PausedWork) =>
    ['acme', 'globex'].flatMap((t) => ['http', 'sleep', 'noop'].map((type) => work.isPaused(t, type)));

  it('gives the same answers when any event is delivered twice in a row', () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 20 }), fc.nat(), (events, i) => {
        const twice = [...events];
        if (events.length > 0) twice.splice(i % events.length, 0, events[i % events.length]!);
        expect(answers(foldPauseEvents(twice))).toEqual(answers(foldPauseEvents(events)));
      }),
    );
  });

  it('is decided, per scope, by the latest event of that scope alone', () => {
    fc.assert(
      fc.property(fc.array(anEvent, { maxLength: 20 }), (events) => {
        const work = foldPauseEvents(events);
        for (const tenantId of ['acme', 'globex']) {
          const latest = (jobType: string | null) =>
            events.findLast((e) => e.tenantId === tenantId && e.data.jobType === jobType)?.type === 'WorkPaused';
          for (const type of ['http', 'sleep', 'noop']) {
            expect(work.isPaused(tenantId, type)).toBe(latest(null) || latest(type));
          }
        }
      }),
    );
  });
});

describe('pauses: codec', () => {
  it('keys an event by its tenant and reads it back; refuses what is not a pause event without throwing', () => {
    const event = aWorkPaused({ tenantId: 'globex', jobType: 'data.export', reason: 'quota' });
    const message = encodePauseEvent(event);
    expect(message.key).toBe('globex');
    expect(decodePauseEvent(Buffer.from(message.value as string))).toEqual({ ok: true, event });
    expect(decodePauseEvent(Buffer.from('{'))).toMatchObject({ ok: false, reason: expect.stringMatching(/JSON/) });
    expect(decodePauseEvent(Buffer.from(JSON.stringify({ ...event, type: 'WorkStopped' })))).toMatchObject({
      ok: false,
    });
    expect(decodePauseEvent(null)).toEqual({ ok: false, reason: 'empty message' });
  });
});
