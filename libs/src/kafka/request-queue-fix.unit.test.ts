import { createRequire } from 'node:module';
import { fixIdleRequestQueueTimer } from './request-queue-fix';

interface QueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests?: () => void;
}

const RequestQueue = createRequire(require.resolve('kafkajs'))('./src/network/requestQueue') as {
  prototype: { scheduleCheckPendingRequests(this: QueueState): void };
};

describe('the kafkajs request queue timer', () => {
  beforeAll(() => fixIdleRequestQueueTimer());

  it('is not armed while nothing is pending', () => {
    const idle: QueueState = { pending: [], throttledUntil: -1, throttleCheckTimeoutId: null };
    RequestQueue.prototype.scheduleCheckPendingRequests.call(idle);
    expect(idle.throttleCheckTimeoutId).toBeNull();
  });

  it('is still armed for a pending request', () => {
    const waiting: QueueState = { pending: [{}], throttledUntil: -1, throttleCheckTimeoutId: null };
    RequestQueue.prototype.scheduleCheckPendingRequests.call(waiting);
    expect(waiting.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(waiting.throttleCheckTimeoutId!);
  });
});
