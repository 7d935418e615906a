import type { IHeaders, Message } from 'kafkajs';
import type { ZodType } from 'zod';
import { JobEvent } from '../events/job-events';

export const EVENT_TYPE_HEADER = 'jobline-event-type';

/** The Kafka record of an event under `key`, its type in a header so that readers may skip it undecoded. */
export function eventMessage(key: string, event: { type: string }): Message {
  return { key, value: JSON.stringify(event), headers: { [EVENT_TYPE_HEADER]: event.type } };
}

/** The Kafka record of an event: keyed by job id so that all of a job's events share a partition, in order. */
export function encodeEvent(event: JobEvent): Message {
  return eventMessage(event.jobId, event);
}

export type Decoded<T> = { ok: true; event: T } | { ok: false; reason: string };
export type DecodeResult = Decoded<JobEvent>;

/**
 * Bytes become a typed event of `schema` here and nowhere else. Anything that is not valid JSON or does not match the
 * schema is reported, never thrown, so that the caller can quarantine it and keep the partition flowing.
 */
export function decodeWith<T>(schema: ZodType<T>, value: Buffer | null): Decoded<T> {
  if (!value || value.length === 0) return { ok: false, reason: 'empty message' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${(err as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, reason: `schema mismatch at ${first?.path.join('.') || '(root)'}: ${first?.message}` };
  }
  return { ok: true, event: parsed.data };
}

/** A job event from its Kafka record (see `decodeWith`). */
export function decodeEvent(value: Buffer | null): DecodeResult {
  return decodeWith(JobEvent, value);
}

export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (value === undefined) return undefined;
  return Buffer.isBuffer(value) ? value.toString('utf8') : Array.isArray(value) ? String(value[0]) : String(value);
}
