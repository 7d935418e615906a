import { Partitioners, type Kafka } from 'kafkajs';
import { encodeScheduleEvent } from '../schedules/schedule-codec';
import type { ScheduleEvent } from '../schedules/schedule-events';
import { createIdempotentProducer } from './idempotent-producer';
import { ProduceQueue } from './produce-queue';

/** The port through which the producer appends schedule changes to their topic. */
export interface SchedulePublisher {
  /** Resolves once every event is durably in Kafka (all in-sync replicas acknowledged), or rejects. */
  publish(events: readonly ScheduleEvent[]): Promise<void>;
}

export interface KafkaSchedulePublisher extends SchedulePublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/** Idempotent producer with `acks=-1` for `jobline.schedule-events`, like the job event publisher. */
export function createKafkaSchedulePublisher(
  kafka: Kafka,
  options: { topic: string; timeoutMs: number },
): KafkaSchedulePublisher {
  const producer = createIdempotentProducer(kafka, {
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const queue = new ProduceQueue(producer);
  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    publish: (events) => queue.send(options.topic, events.map(encodeScheduleEvent), options.timeoutMs),
  };
}
