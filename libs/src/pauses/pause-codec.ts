import type { Message } from 'kafkajs';
import { decodeWith, eventMessage, type Decoded } from '../kafka/event-codec';
import { PauseEvent } from './pause-events';

/**
 * The Kafka record of a pause event: keyed by tenant id, so that every pause and resume of a tenant shares a partition,
 * in order, whatever the topic's partition count.
 */
export function encodePauseEvent(event: PauseEvent): Message {
  return eventMessage(event.tenantId, event);
}

export type PauseDecodeResult = Decoded<PauseEvent>;

/** Never throws: a message that is not a pause event is reported, so the partition keeps flowing. */
export function decodePauseEvent(value: Buffer | null): PauseDecodeResult {
  return decodeWith(PauseEvent, value);
}
