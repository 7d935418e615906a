import { Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { JobEvent } from '../events/job-events';
import { JoblineError } from '../errors/jobline-error';
import { encodeEvent } from './event-codec';

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

interface Pending {
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Idempotent producer with `acks=-1`. Concurrent `publish` calls are coalesced: while one produce request is in
 * flight, the next calls queue up and go out together in the following request. One request in flight keeps every
 * job's events in order, and coalescing keeps throughput up under concurrent load without adding a linger delay.
 */
export function createKafkaEventPublisher(kafka: Kafka, options: KafkaEventPublisherOptions): KafkaEventPublisher {
  const maxBatch = options.maxBatchMessages ?? 500;
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  const queue: Pending[] = [];
  let sending = false;

  async function flush(): Promise<void> {
    if (sending || queue.length === 0) return;
    sending = true;
    const batch: Pending[] = [];
    let count = 0;
    while (queue.length > 0 && (batch.length === 0 || count + queue[0]!.messages.length <= maxBatch)) {
      const next = queue.shift()!;
      batch.push(next);
      count += next.messages.length;
    }
    try {
      await producer.send({ topic: options.topic, acks: -1, messages: batch.flatMap((p) => p.messages) });
      for (const p of batch) p.resolve();
    } catch (err) {
      const error = new JoblineError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the events', {
        retryable: true,
        cause: err,
      });
      for (const p of batch) p.reject(error);
    } finally {
      sending = false;
      if (queue.length > 0) setImmediate(() => void flush());
    }
  }

  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    publish(events) {
      if (events.length === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          // Still queued means never sent: withdraw it, so a 503 leaves nothing behind in the log. A request
          // already in flight cannot be recalled; the idempotency key is the client's protection there.
          const index = queue.indexOf(pending);
          if (index >= 0) queue.splice(index, 1);
          reject(
            new JoblineError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge within ${options.timeoutMs} ms`, {
              retryable: true,
            }),
          );
        }, options.timeoutMs);
        const pending: Pending = {
          messages: events.map(encodeEvent),
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        queue.push(pending);
        setImmediate(() => void flush());
      });
    },
  };
}
