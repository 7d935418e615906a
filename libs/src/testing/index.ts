export * from './wait-for';
export * from './test-namespace';
export * from './event-tap';
export * from './http';
export * from './prometheus-text';
export * from './job-events';
export * from './schedule-events';
export * from './pause-events';
