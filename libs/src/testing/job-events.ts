import { randomUUID } from 'node:crypto';
import type { JobEventOf } from '../events/job-events';
import { newEvent } from '../events/new-event';
import { DEFAULT_BACKOFF } from '../jobs/backoff';

type RequestedData = JobEventOf<'JobRequested'>['data'];

export interface JobRequestedOverrides extends Partial<RequestedData> {
  jobId?: string;
  tenantId?: string;
  now?: Date;
}

/**
 * A complete `JobRequested` event as the producer writes it: a `noop` job of tenant `acme` with default options and a
 * fresh id, now; any field of the envelope's context or of its data replaced.
 */
export function aJobRequested(overrides: JobRequestedOverrides = {}): JobEventOf<'JobRequested'> {
  const { jobId = randomUUID(), tenantId = 'acme', now = new Date(), ...data } = overrides;
  return newEvent(
    'JobRequested',
    { jobId, tenantId, source: 'producer', now },
    {
      type: 'noop',
      payload: {},
      runAt: null,
      maxAttempts: 1,
      backoff: DEFAULT_BACKOFF,
      timeoutMs: null,
      callbackUrl: null,
      notify: null,
      metadata: {},
      idempotencyKey: null,
      ...data,
    },
  );
}
