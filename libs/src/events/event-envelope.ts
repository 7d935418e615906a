import { z } from 'zod';
import { timeOrderedId } from './time-ordered-id';

/**
 * The envelope every jobline event shares, whatever its topic: its id, the id of the thing it is about (a job, a
 * schedule, or none for a tenant's pauses), the tenant, the type, the contract version, when and where it happened,
 * and the type's data. Its key order is part of what is published: events are written with `JSON.stringify` and the
 * JSON Schemas list properties in this order, so the schema and the builder below keep the same order.
 */
export const EVENT_SCHEMA_VERSION = 1;

export const EventSource = z.enum(['producer', 'runner', 'consumer', 'cli']);
export type EventSource = z.infer<typeof EventSource>;

const timestamp = z.iso.datetime({ offset: true });

/** The zod schema of one event type: the envelope, with `idFields` after `eventId`, around `data`. */
export function envelopeSchema<I extends z.ZodRawShape, T extends string, D extends z.ZodType>(
  idFields: I,
  type: T,
  data: D,
) {
  return z.object({
    eventId: z.uuid(),
    ...idFields,
    tenantId: z.string().min(1),
    type: z.literal(type),
    schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
    occurredAt: timestamp,
    source: EventSource,
    data,
  });
}

export interface EnvelopeContext {
  tenantId: string;
  source: EventSource;
  /** The moment the event happened; passed in so that callers own the clock. */
  now: Date;
}

/**
 * Builds a complete event envelope of type `E` around `data`, with a fresh event id and `idFields` after it. `E` is the
 * caller's event type, which this does not check: the caller's own signature ties `type` to its `data`.
 */
export function newEnvelope<E>(type: string, idFields: Record<string, string>, ctx: EnvelopeContext, data: unknown): E {
  return {
    eventId: timeOrderedId(ctx.now),
    ...idFields,
    tenantId: ctx.tenantId,
    type,
    schemaVersion: EVENT_SCHEMA_VERSION,
    occurredAt: ctx.now.toISOString(),
    source: ctx.source,
    data,
  } as unknown as E;
}
