import type { Message } from 'kafkajs';
import { EVENT_TYPE_HEADER } from '../kafka/event-codec';
import { PauseEvent } from './pause-events';

/**
 * The Kafka record of a pause event: keyed by tenant id, so that every pause and resume of a tenant shares a partition,
 * in order, whatever the topic's partition count.
 */
export function encodePauseEvent(event: PauseEvent): Message {
  return { key: event.tenantId, value: JSON.stringify(event), headers: { [EVENT_TYPE_HEADER]: event.type } };
}

export type PauseDecodeResult = { ok: true; event: PauseEvent } | { ok: false; reason: string };

/** Never throws: a message that is not a pause event is reported, so the partition keeps flowing. */
export function decodePauseEvent(value: Buffer | null): PauseDecodeResult {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = PauseEvent.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `schema mismatch at ${first?.path.join('.') || '(root)'}: ${first?.message}` };
  }
  return { ok: true, event: parsed.data };
}
