import { collectDefaultMetrics, Registry } from 'prom-client';

// The metric classes are re-exported so that the services use the one prom-client copy libs depends on.
export { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets in seconds, from 5 ms to a minute: HTTP requests and job handlers share them. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * A registry for one service: every series carries `service`. Node's process metrics (CPU, memory, event loop lag,
 * GC, handles) keep their standard `process_`/`nodejs_` names, so that stock dashboards work; jobline's own series
 * are named `jobline_*`.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
