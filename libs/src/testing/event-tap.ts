import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEvent } from '../kafka/event-codec';
import type { JobEvent } from '../events/job-events';
import { waitFor } from './wait-for';

/** Reads a topic from the beginning into memory, so a test can assert on what really reached Kafka. */
export async function tapEvents(kafka: Kafka, topic: string) {
  const events: JobEvent[] = [];
  const consumer = kafka.consumer({ groupId: `tap-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decodeEvent(message.value);
      if (decoded.ok) events.push(decoded.event);
    },
  });
  return {
    events,
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
