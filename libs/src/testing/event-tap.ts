import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEvent } from '../kafka/event-codec';
import type { JobEvent } from '../events/job-events';
import { waitFor } from './wait-for';

/** Reads a topic from the beginning into memory, so a test can assert on what really reached Kafka. */
export async function tapEvents(kafka: Kafka, topic: string) {
  const events: JobEvent[] = [];
  /** Where each event was read, by event id (the first place, for an event published twice). */
  const positions = new Map<string, { partition: number; offset: number }>();
  const consumer = kafka.consumer({ groupId: `tap-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const decoded = decodeEvent(message.value);
      if (!decoded.ok) return;
      events.push(decoded.event);
      if (!positions.has(decoded.event.eventId)) {
        positions.set(decoded.event.eventId, { partition, offset: Number(message.offset) });
      }
    },
  });
  return {
    events,
    /** Where an event read here sits in the topic. */
    positionOf: (eventId: string) => positions.get(eventId),
    /** Waits until the events of `jobId` satisfy `predicate`, and returns them. */
    forJob: (jobId: string, predicate: (events: JobEvent[]) => boolean, timeoutMs = 20_000) =>
      waitFor(
        () => {
          const mine = events.filter((e) => e.jobId === jobId);
          return predicate(mine) ? mine : undefined;
        },
        { timeoutMs, description: `events of job ${jobId}` },
      ),
    stop: () => consumer.disconnect(),
  };
}
