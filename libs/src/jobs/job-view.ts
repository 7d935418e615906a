import { z } from 'zod';
import { JobErrorInfo, Priority } from '../events/job-events';
import { JOB_STATUSES, type Job } from './job';

/** What clients see of a job over HTTP. */
export const JobView = z.object({
  id: z.uuid(),
  type: z.string(),
  status: z.enum(JOB_STATUSES),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  priority: Priority,
  progress: z.object({ current: z.number(), total: z.number().nullable(), message: z.string().nullable() }).nullable(),
  result: z.unknown(),
  resultUrl: z.string().nullable(),
  error: JobErrorInfo.nullable(),
  metadata: z.record(z.string(), z.string()),
  runAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
export type JobView = z.infer<typeof JobView>;

export function toJobView(job: Job): JobView {
  return {
    id: job.id,
    type: job.type,
    status: job.status,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    progress: job.progress,
    result: job.result ?? null,
    resultUrl: job.resultUrl,
    error: job.error,
    metadata: job.metadata,
    runAt: job.runAt,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  };
}
