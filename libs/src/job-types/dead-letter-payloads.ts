import { z } from 'zod';

/** The job types that act on the dead letters in bulk. */
export const DEAD_LETTER_BULK_TYPES = {
  redrive: 'deadLetters.redrive',
  discard: 'deadLetters.discard',
} as const;
export type DeadLetterBulkAction = keyof typeof DEAD_LETTER_BULK_TYPES;

/** Most dead letters one bulk job acts on. */
export const DEAD_LETTER_BULK_MAX_LIMIT = 1_000_000;
/** The error code that stands for a job dead-lettered without an error, as `GET /v1/stats` groups it. */
export const NO_ERROR_CODE = 'none';

const Instant = z.iso.datetime({ offset: true });

/**
 * Which dead letters (failed jobs) a bulk job acts on: every condition given must hold. The time range is on when the
 * job was dead-lettered, `from` inclusive, `to` exclusive; the job never reaches past the moment it was requested, so
 * that what it acts on is settled when it is asked for (a job that fails while it runs is not in it).
 */
const filterShape = {
  type: z.string().min(1).max(100).optional().describe('only dead letters of this job type'),
  code: z
    .string()
    .min(1)
    .max(100)
    .optional()
    .describe(
      `only those whose last error has this code; \`${NO_ERROR_CODE}\` also stands for a job dead-lettered without ` +
        'an error, as GET /v1/stats groups them',
    ),
  from: Instant.optional().describe('only those dead-lettered at or after this instant (ISO 8601 with offset)'),
  to: Instant.optional().describe(
    'only those dead-lettered before this instant, which must come after `from`; without it, before the bulk job ' +
      'was requested',
  ),
  limit: z
    .number()
    .int()
    .min(1)
    .max(DEAD_LETTER_BULK_MAX_LIMIT)
    .optional()
    .describe('act on at most this many, the earliest dead-lettered first'),
  maxPerSecond: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe('act on at most this many per second, so that a large redrive does not swamp the runners at once'),
};

const fromBeforeTo = <T extends z.ZodType<{ from?: string; to?: string }>>(schema: T) =>
  schema.refine((f) => f.from === undefined || f.to === undefined || Date.parse(f.from) < Date.parse(f.to), {
    message: 'from must be before to',
    path: ['to'],
  });

/** `deadLetters.redrive`: redrives every dead letter that matches, each once (`JobRetryRequested`). */
export const DeadLettersRedrivePayload = fromBeforeTo(z.object(filterShape).strict());
export type DeadLettersRedrivePayload = z.infer<typeof DeadLettersRedrivePayload>;

/** `deadLetters.discard`: discards every dead letter that matches (`JobDiscarded`); they stay, as `discarded`. */
export const DeadLettersDiscardPayload = fromBeforeTo(
  z
    .object({
      ...filterShape,
      reason: z.string().min(1).max(500).optional().describe('why, recorded in each JobDiscarded event'),
    })
    .strict(),
);
export type DeadLettersDiscardPayload = z.infer<typeof DeadLettersDiscardPayload>;

export type DeadLetterBulkPayload = DeadLettersRedrivePayload & { reason?: string };

const count = z.number().int().min(0);

const outcomeShape = {
  /** The filter as applied: `to` is the moment the job was requested when not given, or given later than that. */
  filter: z.object({
    type: z.string().nullable(),
    code: z.string().nullable(),
    from: z.string().nullable(),
    to: z.string(),
  }),
  /** The dead letters the filter found when the job first ran, at most `limit`. */
  matched: count,
  /** Those matched that were no longer dead letters when the job reached them: redriven, discarded by others. */
  skipped: count,
  /** Whether `limit` stopped the job before every dead letter of the filter was acted on. */
  limitReached: z.boolean(),
};

/** The result of a bulk job on the dead letters: what it matched and what it did, counted once across its reruns. */
export const DeadLetterBulkOutcome = z.discriminatedUnion('action', [
  z.object({ action: z.literal('redrive'), ...outcomeShape, redriven: count }),
  z.object({ action: z.literal('discard'), ...outcomeShape, discarded: count }),
]);
export type DeadLetterBulkOutcome = z.infer<typeof DeadLetterBulkOutcome>;
