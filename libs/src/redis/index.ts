/** The Redis adapter: connection, job, schedule and pause caches, cancellations and job change notices. */
export * from './redis-client';
export * from './job-cache';
export * from './cancellations';
export * from './job-changes';
export * from './schedule-cache';
export * from './pause-cache';
