import { Partitioners, type Kafka } from 'kafkajs';
import { JoblineError } from '../errors/jobline-error';
import type { LogPosition } from '../mongo/collections';
import { encodePauseEvent } from '../pauses/pause-codec';
import type { PauseEvent } from '../pauses/pause-events';
import { createIdempotentProducer } from './idempotent-producer';

/** The port through which the producer appends pauses and resumes to their topic. */
export interface PausePublisher {
  /**
   * Resolves with the event's position in the log once it is durably in Kafka (all in-sync replicas acknowledged),
   * or rejects with `KAFKA_UNAVAILABLE`.
   */
  publish(event: PauseEvent): Promise<LogPosition>;
}

export interface KafkaPausePublisher extends PausePublisher {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Idempotent producer with `acks=-1` for `jobline.pause-events`. Unlike the job events' publisher it answers with the
 * event's offset: the producer caches the state it answers with at that position, so that the persister's fold of the
 * same or a later event replaces it and an older one never does. Pauses come one at a time, at the pace of people, so
 * sends go out one after the other rather than coalesced.
 */
export function createKafkaPausePublisher(
  kafka: Kafka,
  options: { topic: string; timeoutMs: number },
): KafkaPausePublisher {
  const producer = createIdempotentProducer(kafka, {
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
  });
  // One send at a time: after a failed one, the idempotent producer renews itself before the next.
  let previous: Promise<unknown> = Promise.resolve();

  return {
    connect: () => producer.connect(),
    disconnect: () => producer.disconnect(),
    publish(event) {
      let expired = false;
      const send = previous.then(async () => {
        // Withdrawn while it waited its turn: it is never sent.
        if (expired) throw unavailable();
        const [metadata] = await producer.sendBatch({
          acks: -1,
          topicMessages: [{ topic: options.topic, messages: [encodePauseEvent(event)] }],
        });
        const offset = metadata?.baseOffset ?? metadata?.offset;
        if (!metadata || offset === undefined)
          throw unavailable('Kafka acknowledged the pause event without its offset');
        return { partition: metadata.partition, offset: Number(offset) };
      });
      previous = send.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          expired = true;
          reject(unavailable(`Kafka did not acknowledge within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      });
      return Promise.race([
        send.catch((err: unknown) => {
          throw err instanceof JoblineError ? err : unavailable('Kafka did not acknowledge the pause event', err);
        }),
        timeout,
      ]).finally(() => clearTimeout(timer));
    },
  };
}

function unavailable(message = 'Kafka did not acknowledge the pause event', cause?: unknown) {
  return new JoblineError('KAFKA_UNAVAILABLE', message, { retryable: true, cause });
}
