import { z } from 'zod';
import { timeOrderedId } from './time-ordered-id';

describe('timeOrderedId', () => {
  it('is a UUID v7 that the API and event schemas accept', () => {
    const id = timeOrderedId();
    expect(id[14]).toBe('7');
    expect(z.uuid().safeParse(id).success).toBe(true);
  });

  it('sorts by the time it carries', () => {
    const earlier = timeOrderedId(new Date('2026-01-01T00:00:00.000Z'));
    const later = timeOrderedId(new Date('2026-01-01T00:00:00.001Z'));
    expect(earlier < later).toBe(true);
  });

  it('sorts ids made one after another in the order they were made', () => {
    const ids = Array.from({ length: 1000 }, () => timeOrderedId());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
