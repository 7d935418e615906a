/** The MongoDB adapter: connection and the projections' collections. */
export * from './mongo-client';
export * from './collections';
export * from './schedule-collections';
export * from './pause-collections';
export * from './tenant-limit-collections';
