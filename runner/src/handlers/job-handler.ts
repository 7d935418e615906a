import type { Job, Logger } from '@jobline/libs';

export interface HandlerContext {
  /** Aborted when the job times out, is cancelled, or the runner shuts down. Handlers must stop promptly. */
  signal: AbortSignal;
  /** Stable across attempts and reruns of the same job: use it to make side effects idempotent. */
  idempotencyKey: string;
  attempt: number;
  /** Reports progress; updates are throttled before they reach the log. */
  progress(current: number, total?: number | null, message?: string | null): void;
  logger: Logger;
}

export interface HandlerResult {
  result?: unknown;
  resultUrl?: string | null;
}

/** A job handler: a plain async function that knows nothing of Kafka. Throw a `JoblineError` to control retries. */
export type JobHandler = (job: Job, ctx: HandlerContext) => Promise<HandlerResult>;
