import { z } from 'zod';
import { envelopeSchema, type EnvelopeContext } from '../events/event-envelope';

/**
 * The pause contract published on `jobline.pause-events`. Every pause and every resume of a tenant's work, as a whole
 * or of one job type, is one event there, keyed by tenant id, kept forever (see `topics.ts` for why not compacted).
 * Every event states the scope's state after it, not a difference: the latest event of a scope in the log decides
 * whether it is paused, and applying an event twice changes nothing.
 */

const scope = {
  jobType: z
    .string()
    .min(1)
    .nullable()
    .describe('the job type paused or resumed; null for the tenant as a whole (every job type)'),
  by: z
    .string()
    .min(1)
    .describe('who asked: the id of the API token (`env:…` for a configured one), never the token itself'),
};

export const WorkPausedData = z.object({
  ...scope,
  reason: z.string().nullable().describe('why, as the operator wrote it; shown with the pause'),
});
export const WorkResumedData = z.object(scope);

function pauseEventSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return envelopeSchema({}, type, data);
}

/** Jobs of the scope stay `pending` (or wait, once due) from now on; attempts under way finish. */
export const WorkPaused = pauseEventSchema('WorkPaused', WorkPausedData);
/** Jobs of the scope start again, in their order, unless a wider pause still holds them. */
export const WorkResumed = pauseEventSchema('WorkResumed', WorkResumedData);

export const PauseEvent = z.discriminatedUnion('type', [WorkPaused, WorkResumed]);
export type PauseEvent = z.infer<typeof PauseEvent>;
export type PauseEventType = PauseEvent['type'];
export type PauseEventOf<T extends PauseEventType> = Extract<PauseEvent, { type: T }>;

export type PauseEventContext = EnvelopeContext;
