import { createRequire } from 'node:module';

interface RequestQueuePrototype {
  pending: unknown[];
  scheduleCheckPendingRequests(): void;
}

let applied = false;

/**
 * kafkajs 2.2.4 re-arms a timer of 1 ms on every connection for as long as the connection lives, even with nothing
 * queued (its `scheduleCheckPendingRequests` schedules `throttledUntil - now`, which is negative when no throttling is
 * in effect; kafkajs issue 1556, fix proposed upstream in pull request 1667, never released). Each idle process then
 * wakes a thousand times a second per connection: on two cores that was 30–70 ms of CPU a second per service with no
 * work at all. With nothing pending there is nothing to check: a request queued later schedules its own check, and
 * each response checks the queue again.
 */
export function fixIdleRequestQueueTimer(): void {
  if (applied) return;
  applied = true;
  const load = createRequire(require.resolve('kafkajs'));
  const RequestQueue = load('./src/network/requestQueue') as { prototype: RequestQueuePrototype };
  const schedule = RequestQueue.prototype.scheduleCheckPendingRequests;
  RequestQueue.prototype.scheduleCheckPendingRequests = function (this: RequestQueuePrototype) {
    if (this.pending.length === 0) return;
    schedule.call(this);
  };
}
