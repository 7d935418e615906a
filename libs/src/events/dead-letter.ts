import type { Message } from 'kafkajs';
import { z } from 'zod';
import { JobErrorInfo, JobRequestedData } from './job-events';
import type { Job } from '../jobs/job';

const timestamp = z.iso.datetime({ offset: true });

/**
 * What `jobline.job-dlq` holds for a job that failed for good: its full request and its last error, keyed by job id,
 * so that an operator can inspect, fix and redrive (`POST /v1/jobs/{id}/retry`) without the event log.
 */
export const DeadLetter = z.object({
  jobId: z.uuid(),
  tenantId: z.string().min(1),
  /** The job's request as it stands after any redrives: the fields of its `JobRequested` event. */
  request: JobRequestedData,
  attempts: z.number().int().min(0),
  error: JobErrorInfo.nullable(),
  createdAt: timestamp,
  deadLetteredAt: timestamp,
});
export type DeadLetter = z.infer<typeof DeadLetter>;

export function deadLetterOf(job: Job, error: JobErrorInfo | null, at: Date): DeadLetter {
  return {
    jobId: job.id,
    tenantId: job.tenantId,
    request: {
      type: job.type,
      payload: job.payload,
      metadata: job.metadata,
      maxAttempts: job.maxAttempts,
      backoff: job.backoff,
      timeoutMs: job.timeoutMs,
      runAt: job.runAt,
      callbackUrl: job.callbackUrl,
      notify: job.notify,
      idempotencyKey: job.idempotencyKey,
    },
    attempts: job.attempts,
    error,
    createdAt: job.createdAt,
    deadLetteredAt: at.toISOString(),
  };
}

export function encodeDeadLetter(letter: DeadLetter): Message {
  return { key: letter.jobId, value: JSON.stringify(letter), headers: { tenantId: letter.tenantId } };
}
