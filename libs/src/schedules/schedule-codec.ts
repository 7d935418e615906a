import type { Message } from 'kafkajs';
import { decodeWith, eventMessage, type Decoded } from '../kafka/event-codec';
import { ScheduleEvent } from './schedule-events';

/** The Kafka record of a schedule event: keyed by schedule id, so that a schedule's events share a partition, in order. */
export function encodeScheduleEvent(event: ScheduleEvent): Message {
  return eventMessage(event.scheduleId, event);
}

export type ScheduleDecodeResult = Decoded<ScheduleEvent>;

/** Never throws: a message that is not a schedule event is reported, so the partition keeps flowing. */
export function decodeScheduleEvent(value: Buffer | null): ScheduleDecodeResult {
  return decodeWith(ScheduleEvent, value);
}
