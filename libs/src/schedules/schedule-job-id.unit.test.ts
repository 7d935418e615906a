import fc from 'fast-check';
import { z } from 'zod';
import { scheduledJobId, scheduledRequestEventId } from './schedule-job-id';

describe('scheduledJobId', () => {
  it('is a version 8 UUID that starts with the fire time, like a UUID v7', () => {
    const id = scheduledJobId('0190a0b0-c0d0-7e0f-9a1b-2c3d4e5f6071', Date.parse('2026-01-01T00:00:07Z'));

    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(id[14]).toBe('8');
    expect('89ab').toContain(id[19]);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse('2026-01-01T00:00:07Z'));
  });

  it('is the same for the same schedule and fire time, and differs otherwise', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), fc.integer({ min: 0, max: 2 ** 47 }), (a, b, t) => {
        expect(scheduledJobId(a, t)).toBe(scheduledJobId(a, t));
        expect(scheduledJobId(a, t + 1)).not.toBe(scheduledJobId(a, t));
        if (a !== b) expect(scheduledJobId(b, t)).not.toBe(scheduledJobId(a, t));
        expect(scheduledRequestEventId(a, t)).not.toBe(scheduledJobId(a, t));
      }),
    );
  });

  it('sorts by fire time', () => {
    const id = '0190a0b0-c0d0-7e0f-9a1b-2c3d4e5f6071';
    const ids = [3000, 1000, 2000].map((t) => scheduledJobId(id, Date.parse('2026-01-01T00:00:00Z') + t));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
  });
});
