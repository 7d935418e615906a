/**
 * The pure core: event and command schemas, the job, schedule and pause state machines, job-type payloads, errors,
 * backoff and timer delays. It loads no Kafka, MongoDB, Redis, HTTP or cloud client (pure-core.unit.test.ts holds it to
 * that): code that only decides, folds events or checks a payload, and its tests, start without the drivers.
 */
export * from '../events/job-events';
export * from '../events/new-event';
export * from '../events/time-ordered-id';
export * from '../events/derived-id';
export * from '../events/dead-letter';
export * from '../events/event-json-schemas';
export * from '../jobs/job';
export * from '../jobs/evolve-job';
export * from '../jobs/decide-job';
export * from '../jobs/backoff';
export * from '../jobs/job-view';
export * from '../errors/jobline-error';
export * from '../job-types/job-types';
export * from '../job-types/http-payload';
export * from '../job-types/data-payloads';
export * from '../job-types/book-payloads';
export * from '../job-types/dead-letter-payloads';
export * from '../schedules/schedule-events';
export * from '../schedules/schedule';
export * from '../schedules/evolve-schedule';
export * from '../schedules/decide-schedule';
export * from '../schedules/fire-times';
export * from '../schedules/plan-fires';
export * from '../schedules/schedule-job-id';
export * from '../schedules/schedule-codec';
export * from '../pauses/pause-events';
export * from '../pauses/new-pause-event';
export * from '../pauses/pause-scope';
export * from '../pauses/paused-work';
export * from '../pauses/pause-codec';
export * from '../scheduling/delay-tiers';
export * from '../scheduling/timer-message';
export * from '../callbacks/callback-signature';
