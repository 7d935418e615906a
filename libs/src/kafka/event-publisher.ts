import { Partitioners, type Kafka } from 'kafkajs';
import type { JobEvent } from '../events/job-events';
import { encodeEvent } from './event-codec';
import { createIdempotentProducer } from './idempotent-producer';
import { ProduceQueue } from './produce-queue';

/** The port through which services append events to the log. */
export interface EventPublisher {
  /** Resolves once every event is durably in Kafka (all in-sync replicas acknowledged), or rejects. */
  publish(events: readonly JobEvent[]): Promise<void>;
}

export interface KafkaEventPublisherOptions {
  topic: string;
  /** Upper bound on one publish, so that callers answer instead of hanging while Kafka is away. */
  timeoutMs: number;
  /** Most messages in one produce request. */
  maxBatchMessages?: number;
}

export interface KafkaEventPublisher extends EventPublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Idempotent producer with `acks=-1`; concurrent `publish` calls are coalesced into one produce request (see
 * `ProduceQueue`), which keeps every job's events in order and throughput up without a linger delay.
 */
export function createKafkaEventPublisher(kafka: Kafka, options: KafkaEventPublisherOptions): KafkaEventPublisher {
  const producer = createIdempotentProducer(kafka, {
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const queue = new ProduceQueue(producer, options.maxBatchMessages);

  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    // A publish still queued when it times out is withdrawn, so a 503 leaves nothing behind in the log; one already
    // in flight cannot be recalled.
    publish: (events) => queue.send(options.topic, events.map(encodeEvent), options.timeoutMs),
  };
}
