import { z } from 'zod';
import { BookExportPayload, BookImportPayload } from './book-payloads';
import { DataExportPayload, DataImportPayload } from './data-payloads';
import { DeadLettersDiscardPayload, DeadLettersRedrivePayload } from './dead-letter-payloads';
import { HttpPayload } from './http-payload';

/** Payload schemas per job type: validated at the edge (producer) and parsed again by the runner's handlers. */
export const SleepPayload = z
  .object({
    /** How long the job runs, in milliseconds. */
    ms: z.number().int().min(0).max(3_600_000),
    /** For demos and tests of retries: the first `failAttempts` attempts fail after sleeping. */
    failAttempts: z.number().int().min(0).max(100).optional(),
    /** How those attempts fail: `retryable` (the default) or `fatal`, which skips the remaining attempts. */
    fail: z.enum(['retryable', 'fatal']).optional(),
  })
  .strict();
export type SleepPayload = z.infer<typeof SleepPayload>;

export const NoopPayload = z.object({}).strict();
export type NoopPayload = z.infer<typeof NoopPayload>;

export const JOB_PAYLOAD_SCHEMAS = {
  sleep: SleepPayload,
  noop: NoopPayload,
  http: HttpPayload,
  'data.import': DataImportPayload,
  'data.export': DataExportPayload,
  'book.import': BookImportPayload,
  'book.export': BookExportPayload,
  'deadLetters.redrive': DeadLettersRedrivePayload,
  'deadLetters.discard': DeadLettersDiscardPayload,
} as const;

export type JobType = keyof typeof JOB_PAYLOAD_SCHEMAS;
export const JOB_TYPES = Object.keys(JOB_PAYLOAD_SCHEMAS) as JobType[];

export function isJobType(type: string): type is JobType {
  return Object.hasOwn(JOB_PAYLOAD_SCHEMAS, type);
}
