import type { Message } from 'kafkajs';
import type { JobErrorInfo } from './job-events';
import type { Job } from '../jobs/job';

/**
 * What `jobline.job-dlq` holds for a job that failed for good: its full request and its last error, keyed by job id,
 * so that an operator can inspect, fix and redrive (`POST /v1/jobs/{id}/retry`) without the event log.
 */
export interface DeadLetter {
  jobId: string;
  tenantId: string;
  request: Pick<
    Job,
    | 'type'
    | 'payload'
    | 'metadata'
    | 'maxAttempts'
    | 'backoff'
    | 'timeoutMs'
    | 'runAt'
    | 'callbackUrl'
    | 'notify'
    | 'idempotencyKey'
  >;
  attempts: number;
  error: JobErrorInfo | null;
  createdAt: string;
  deadLetteredAt: string;
}

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
