import type { BackoffPolicy, JobErrorInfo, NotifySpec } from '../events/job-events';

/** `discarded`: a failed job set aside for good by a `deadLetters.discard` job; no longer a dead letter. */
export const JOB_STATUSES = [
  'pending',
  'scheduled',
  'processing',
  'completed',
  'failed',
  'cancelled',
  'discarded',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled', 'discarded']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

export interface JobProgress {
  current: number;
  total: number | null;
  message: string | null;
}

/** The state of one job, as folded from its events by `evolve`. It is what the `jobs` projection stores. */
export interface Job {
  id: string;
  tenantId: string;
  type: string;
  payload: unknown;
  status: JobStatus;
  /** Number of the latest attempt; attempt numbers keep counting across redrives. */
  attempts: number;
  maxAttempts: number;
  /** The job fails for good once this attempt has failed. Starts at `maxAttempts`; a redrive raises it. */
  attemptLimit: number;
  backoff: BackoffPolicy;
  timeoutMs: number | null;
  runAt: string | null;
  callbackUrl: string | null;
  notify: NotifySpec | null;
  metadata: Record<string, string>;
  idempotencyKey: string | null;
  /** 1 (lowest) to 9 (highest): which waiting job a free slot takes first. */
  priority: number;
  progress: JobProgress | null;
  result: unknown;
  resultUrl: string | null;
  error: JobErrorInfo | null;
  runnerId: string | null;
  cancelRequestedAt: string | null;
  deadLetteredAt: string | null;
  createdAt: string;
  updatedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}
