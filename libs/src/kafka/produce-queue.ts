import type { Message, TopicMessages } from 'kafkajs';
import { JoblineError } from '../errors/jobline-error';
import type { BatchSender } from './idempotent-producer';

interface Pending {
  topic: string;
  messages: Message[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Sends through one producer with `acks=-1`, coalescing concurrent sends: while one produce request is in flight, the
 * next sends queue up and go out together, to any number of topics, in the following request. With the idempotent
 * producer's single request in flight this keeps each partition in order, and coalescing keeps throughput up under
 * concurrent load without a linger delay. Give it a `createIdempotentProducer`: after a failed request, a plain
 * kafkajs idempotent producer can have the next one acknowledged and dropped.
 */
export class ProduceQueue {
  private readonly queue: Pending[] = [];
  private sending = false;

  constructor(
    private readonly producer: BatchSender,
    private readonly maxBatchMessages = 500,
  ) {}

  /**
   * Resolves once Kafka acknowledged the messages. With `timeoutMs`, rejects with `KAFKA_UNAVAILABLE` after that long;
   * messages still queued then are withdrawn and never sent (a request already in flight cannot be recalled).
   */
  send(topic: string, messages: Message[], timeoutMs?: number): Promise<void> {
    if (messages.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              const index = this.queue.indexOf(pending);
              if (index >= 0) this.queue.splice(index, 1);
              reject(
                new JoblineError('KAFKA_UNAVAILABLE', `Kafka did not acknowledge within ${timeoutMs} ms`, {
                  retryable: true,
                }),
              );
            }, timeoutMs);
      const pending: Pending = {
        topic,
        messages,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.queue.push(pending);
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queue.length === 0) return;
    this.sending = true;
    const batch: Pending[] = [];
    let count = 0;
    while (
      this.queue.length > 0 &&
      (batch.length === 0 || count + this.queue[0]!.messages.length <= this.maxBatchMessages)
    ) {
      const next = this.queue.shift()!;
      batch.push(next);
      count += next.messages.length;
    }
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), ...p.messages]);
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    try {
      await this.producer.sendBatch({ acks: -1, topicMessages });
      for (const p of batch) p.resolve();
    } catch (err) {
      const error = new JoblineError('KAFKA_UNAVAILABLE', 'Kafka did not acknowledge the messages', {
        retryable: true,
        cause: err,
      });
      for (const p of batch) p.reject(error);
    } finally {
      this.sending = false;
      if (this.queue.length > 0) setImmediate(() => void this.flush());
    }
  }
}
