import type { Kafka, Producer, ProducerBatch, ProducerConfig, RecordMetadata } from 'kafkajs';

/** The part of a kafkajs producer that `ProduceQueue` sends through. */
export type BatchSender = Pick<Producer, 'sendBatch'>;

export interface IdempotentProducer extends BatchSender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * An idempotent kafkajs producer that never numbers a batch like one that may already be in the log.
 *
 * A send can fail after the partition leader appended its batch: replication to the in-sync replicas timed out, or
 * they fell below `min.insync.replicas` while it waited. kafkajs then gives the failed batch's sequence numbers to the
 * next batch, and the broker, which holds a batch with those numbers, takes a next batch of the same size for a retry
 * of it: it acknowledges the batch and drops its messages. So after a failed send the next one goes through a new
 * producer, whose new producer id starts its sequences afresh. A retry of the failed messages may then put them in the
 * log twice, which its readers tolerate: every event carries its id.
 */
export function createIdempotentProducer(
  kafka: Kafka,
  config: Omit<ProducerConfig, 'idempotent'> = {},
): IdempotentProducer {
  const create = () => kafka.producer({ ...config, idempotent: true });
  let current = create();
  // Whether the current producer's last send failed, leaving its sequence numbers in doubt.
  let spent = false;
  let renewal: Promise<void> | null = null;

  const renew = async () => {
    const next = create();
    try {
      await next.connect();
    } catch (err) {
      await next.disconnect().catch(() => undefined);
      throw err;
    }
    const previous = current;
    current = next;
    spent = false;
    // The spent producer has nothing in flight; failing to close its connections cleanly changes nothing.
    await previous.disconnect().catch(() => undefined);
  };

  return {
    connect: () => current.connect(),
    disconnect: () => current.disconnect(),
    async sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
      if (spent) {
        renewal ??= renew().finally(() => (renewal = null));
        await renewal;
      }
      const producer = current;
      try {
        return await producer.sendBatch(batch);
      } catch (err) {
        if (producer === current) spent = true;
        throw err;
      }
    },
  };
}
