import { Partitioners, type Kafka, type Message } from 'kafkajs';
import {
  ProduceQueue,
  createIdempotentProducer,
  jobFromDocument,
  type Job,
  type JoblineCollections,
} from '@jobline/libs';

/** The projection's view of jobs, for deciding which attempt runs (see `plan-attempt.ts`). */
export function createProjectionLookup(collections: JoblineCollections) {
  return async (jobIds: readonly string[]): Promise<Map<string, Job>> => {
    const found = new Map<string, Job>();
    if (jobIds.length === 0) return found;
    for (const doc of await collections.jobs.find({ _id: { $in: [...jobIds] } }).toArray()) {
      found.set(doc._id, jobFromDocument(doc));
    }
    return found;
  };
}

/**
 * An idempotent producer (acks=-1) for the topics beside the event log: timers and dead letters. Concurrent sends are
 * coalesced into one request, so that thousands of timers written at once don't queue behind each other.
 */
export function createTopicSender(kafka: Kafka) {
  const producer = createIdempotentProducer(kafka, {
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  const queue = new ProduceQueue(producer);
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    send: (topic: string, messages: Message[]) => queue.send(topic, messages),
  };
}
