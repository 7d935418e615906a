import {
  CALLBACK_DELIVERY_HEADER,
  CALLBACK_SIGNATURE_HEADER,
  backoffDelayMs,
  isJoblineError,
  signCallback,
  type BackoffPolicy,
  type CallbackDeliveryDocument,
  type JobView,
  type Logger,
} from '@jobline/libs';
import type { Collection } from 'mongodb';

/** Sends one callback request; the SSRF-guarded HTTP client in production. Throws on network errors and refusals. */
export type CallbackPoster = (request: {
  url: string;
  body: string;
  headers: Record<string, string>;
}) => Promise<{ status: number }>;

/** Mails a finished job's view to an address (`notify.email`); throws a JoblineError saying whether to retry. */
export type JobMailSender = (to: string, view: JobView) => Promise<void>;

export interface CallbackDispatcherOptions {
  deliveries: Collection<CallbackDeliveryDocument>;
  post: CallbackPoster;
  /** Sends the deliveries addressed `mailto:`; none: they fail, as nothing can send them. */
  mail?: JobMailSender;
  /** The tenant's signing secret. */
  secretFor: (tenantId: string) => string;
  logger: Logger;
  now: () => Date;
  /** Deliveries in flight at once. @defaultValue 8 */
  concurrency?: number;
  /** Attempts before a delivery is given up as `failed`. @defaultValue 8 */
  maxAttempts?: number;
  /** Wait between attempts. @defaultValue exponential from 1 s, at most 10 min */
  backoff?: BackoffPolicy;
  /** How often the outbox is checked for due deliveries when nothing wakes the dispatcher. @defaultValue 1000 */
  pollMs?: number;
  /** How long a claimed delivery may take before another dispatcher presumes its process dead. @defaultValue 60000 */
  leaseMs?: number;
  onOutcome?: (outcome: 'delivered' | 'retried' | 'failed') => void;
}

export interface CallbackDispatcher {
  start(): void;
  /** New deliveries are due: look now rather than at the next poll. */
  wake(): void;
  /** Stops claiming, and waits for the deliveries in flight. */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 1000, maxDelayMs: 10 * 60_000 };

/** Whether a receiver's answer may change on another try: server errors, timeouts and rate limits. */
function retryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/**
 * Works off the callback outbox (`callback_deliveries`). A delivery is claimed atomically with a lease, so that any
 * number of persister processes can share the outbox and one that crashed mid-delivery only delays it until the lease
 * ends. Each attempt POSTs the job view, signed with the tenant's secret over the timestamp and the body; a 2xx is
 * delivered, a 5xx, 408, 429 or network error is tried again after a backoff, anything else (another 4xx, an address
 * the SSRF guard refuses) fails the delivery at once. At-least-once: receivers deduplicate on `Jobline-Delivery`.
 */
export function createCallbackDispatcher(options: CallbackDispatcherOptions): CallbackDispatcher {
  const { deliveries, logger } = options;
  const concurrency = options.concurrency ?? 8;
  const maxAttempts = options.maxAttempts ?? 8;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const pollMs = options.pollMs ?? 1000;
  const leaseMs = options.leaseMs ?? 60_000;

  const inFlight = new Set<Promise<void>>();
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  let claiming: Promise<void> | null = null;
  let again = false;

  async function claim(): Promise<CallbackDeliveryDocument | null> {
    const now = options.now();
    return deliveries.findOneAndUpdate(
      {
        $or: [
          { status: 'pending', nextAttemptAt: { $lte: now } },
          { status: 'delivering', leaseUntil: { $lte: now } },
        ],
      },
      { $set: { status: 'delivering', leaseUntil: new Date(now.getTime() + leaseMs) }, $inc: { attempts: 1 } },
      { sort: { nextAttemptAt: 1 }, returnDocument: 'after' },
    );
  }

  type Outcome = { status: number | null; error: string | null; retryable: boolean };

  async function attempt(delivery: CallbackDeliveryDocument): Promise<Outcome> {
    try {
      if (delivery.url.startsWith('mailto:')) {
        if (!options.mail) return { status: null, error: 'no SMTP server is configured (SMTP_URL)', retryable: false };
        await options.mail(delivery.url.slice('mailto:'.length), delivery.view);
        return { status: null, error: null, retryable: false };
      }
      const body = JSON.stringify(delivery.view);
      const timestamp = Math.floor(options.now().getTime() / 1000);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'jobline-callbacks/1',
        [CALLBACK_SIGNATURE_HEADER]: signCallback(options.secretFor(delivery.tenantId), timestamp, body),
        [CALLBACK_DELIVERY_HEADER]: delivery._id,
      };
      const { status } = await options.post({ url: delivery.url, body, headers });
      return status >= 200 && status < 300
        ? { status, error: null, retryable: false }
        : { status, error: `answered ${status}`, retryable: retryableStatus(status) };
    } catch (err) {
      return { status: null, error: (err as Error).message, retryable: isJoblineError(err) ? err.retryable : true };
    }
  }

  async function deliver(delivery: CallbackDeliveryDocument) {
    const outcome = await attempt(delivery);
    // Conditional on the claim still being this one: a delivery whose lease ran out may have been claimed again.
    const mine = { _id: delivery._id, status: 'delivering' as const, attempts: delivery.attempts };
    const now = options.now();
    if (outcome.error === null) {
      await deliveries.updateOne(mine, {
        $set: { status: 'delivered', deliveredAt: now, leaseUntil: null, lastStatus: outcome.status, lastError: null },
      });
      options.onOutcome?.('delivered');
      logger.info('callback delivered', {
        jobId: delivery.jobId,
        tenantId: delivery.tenantId,
        attempt: delivery.attempts,
      });
      return;
    }
    const giveUp = !outcome.retryable || delivery.attempts >= maxAttempts;
    const nextAttemptAt = new Date(now.getTime() + backoffDelayMs(delivery.attempts, backoff, Math.random()));
    await deliveries.updateOne(mine, {
      $set: {
        status: giveUp ? 'failed' : 'pending',
        leaseUntil: null,
        lastStatus: outcome.status,
        lastError: outcome.error,
        ...(giveUp ? {} : { nextAttemptAt }),
      },
    });
    options.onOutcome?.(giveUp ? 'failed' : 'retried');
    logger.warn(giveUp ? 'callback failed for good' : 'callback attempt failed; will retry', {
      jobId: delivery.jobId,
      tenantId: delivery.tenantId,
      attempt: delivery.attempts,
      status: outcome.status,
      err: outcome.error,
      ...(giveUp ? {} : { nextAttemptAt: nextAttemptAt.toISOString() }),
    });
  }

  /** Claims due deliveries while there is room; overlapping calls fold into one more pass. */
  function pump(): void {
    if (!running) return;
    if (claiming) {
      again = true;
      return;
    }
    claiming = (async () => {
      while (running && inFlight.size < concurrency) {
        const delivery = await claim();
        if (!delivery) break;
        const work: Promise<void> = deliver(delivery)
          .catch((err: unknown) => {
            logger.error('callback delivery bookkeeping failed', { err: String(err) });
          })
          .finally(() => {
            inFlight.delete(work);
            pump();
          });
        inFlight.add(work);
      }
    })()
      .catch((err: unknown) => {
        logger.warn('could not read the callback outbox', { err: String(err) });
      })
      .finally(() => {
        claiming = null;
        if (again) {
          again = false;
          pump();
        }
      });
  }

  return {
    start() {
      running = true;
      timer = setInterval(pump, pollMs);
      pump();
    },
    wake: pump,
    async stop() {
      running = false;
      clearInterval(timer);
      await claiming;
      await Promise.allSettled([...inFlight]);
    },
  };
}
