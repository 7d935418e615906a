/** The Kafka adapter: client, topics, the event codec and the publishers that write to the event log. */
export * from './kafka-client';
export * from './produce-queue';
export * from './topics';
export * from './event-codec';
export * from './event-publisher';
export * from './schedule-publisher';
export * from './pause-publisher';
