import type { Message } from 'kafkajs';
import { EVENT_TYPE_HEADER } from '../kafka/event-codec';
import { ScheduleEvent } from './schedule-events';

/** The Kafka record of a schedule event: keyed by schedule id, so that a schedule's events share a partition, in order. */
export function encodeScheduleEvent(event: ScheduleEvent): Message {
  return { key: event.scheduleId, value: JSON.stringify(event), headers: { [EVENT_TYPE_HEADER]: event.type } };
}

export type ScheduleDecodeResult = { ok: true; event: ScheduleEvent } | { ok: false; reason: string };

/** Never throws: a message that is not a schedule event is reported, so the partition keeps flowing. */
export function decodeScheduleEvent(value: Buffer | null): ScheduleDecodeResult {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = ScheduleEvent.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `schema mismatch at ${first?.path.join('.') || '(root)'}: ${first?.message}` };
  }
  return { ok: true, event: parsed.data };
}
