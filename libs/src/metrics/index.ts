/** Prometheus metrics, readiness checks and the ops server that serves them. */
export * from './metrics-registry';
export * from './readiness';
export * from './ops-server';
