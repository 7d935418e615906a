import { Counter, type Registry } from '@jobline/libs';

export function createCallbackMetrics(registry: Registry) {
  const attempts = new Counter({
    name: 'jobline_callback_attempts_total',
    help: 'Callback delivery attempts by outcome: delivered, retried (will be tried again) or failed (given up)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    outcome: (outcome: 'delivered' | 'retried' | 'failed') => attempts.inc({ outcome }),
  };
}
