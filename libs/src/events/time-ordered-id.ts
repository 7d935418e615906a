import { v7 } from 'uuid';

/**
 * A new id for a job or an event: a UUID v7, whose first 48 bits are the creation time in milliseconds. Ids made later
 * sort later, so new documents append at the right edge of the `_id` index instead of landing on random pages, and
 * lists come out in creation order. `at` sets the time it carries (an event's own time); the clock by default. Ids already in the log (random v4 UUIDs) stay valid: both are RFC 9562 UUIDs.
 */
export function timeOrderedId(at?: Date): string {
  return at ? v7({ msecs: at.getTime() }) : v7();
}
